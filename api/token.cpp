// POST /api/v1/token: a bearer token for Basic credentials.
#include "params.hpp"

#include "gw/core/json.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

const OperationDoc api::k_token_doc{
    "createToken",
    "A bearer token for Basic credentials",
    "Send the client's name and secret with Basic; use the token as 'Authorization: Bearer "
    "TOKEN' on the other calls until it expires. A Bearer header here is refused with a Basic "
    "challenge.",
    nullptr,
    nullptr,
    "Token",
    false,
    {400, 401, 429, 500, 503},
    {{"Token", R"({"type":"object","required":["access_token","token_type","expires_in"],)"
               R"("additionalProperties":false,"properties":{"access_token":{"type":"string",)"
               R"("minLength":16},"token_type":{"type":"string","enum":["Bearer"]},)"
               R"("expires_in":{"type":"integer","minimum":60,"maximum":86400,)"
               R"("description":"Seconds the token is valid."}}})"}}};

http::Response Api::token(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    http::Response r;
    r.no_store = true;
    JsonWriter w;
    w.object().field("access_token", auth_.issue_token(*ctx.who)).field("token_type", "Bearer");
    w.key("expires_in").integer(config_.api.token_lifetime_s).end();
    r.body = std::move(w).take();
    return r;
}

}  // namespace gw
