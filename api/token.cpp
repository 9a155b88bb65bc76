// POST /api/v1/token: a bearer token for Basic credentials.
#include "params.hpp"

#include "gw/core/text.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

http::Response Api::token(Ctx& ctx) {
    if (ctx.req.authorization.rfind("Basic ", 0) != 0 && ctx.req.authorization.rfind("basic ", 0) != 0)
        return error(ctx, 401, "unauthorized", "POST /api/v1/token takes Basic credentials");
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    http::Response r;
    r.no_store = true;
    r.body = "{\"access_token\":" + json_quote(auth_.issue_token(*ctx.who)) +
             ",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(config_.api.token_lifetime_s) + "}";
    return r;
}

}  // namespace gw
