// POST /api/v1/token: a bearer token for Basic credentials.
#include "params.hpp"

#include "gw/core/json.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

const OperationDoc api::k_token_doc{
    "createToken",
    "A bearer token for Basic credentials",
    nullptr,
    nullptr,
    "Token",
    false,
    {{"Token", R"({"type":"object","properties":{"access_token":{"type":"string"},)"
               R"("token_type":{"type":"string"},"expires_in":{"type":"integer"}}})"}}};

http::Response Api::token(Ctx& ctx) {
    if (ctx.req.authorization.rfind("Basic ", 0) != 0 &&
        ctx.req.authorization.rfind("basic ", 0) != 0)
        return error(ctx, 401, "unauthorized", "POST /api/v1/token takes Basic credentials");
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
