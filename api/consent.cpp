// PUT and DELETE /api/v1/consent/{klant_ean}: an admin grants or revokes a customer's consent.
// Idempotent: the same request again changes nothing and says so. Every call is audited (with
// the customer) like any other, and a change takes effect on the next request.
#include "params.hpp"

#include "gw/core/json.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

namespace {

const std::vector<Param> k_klant_path{
    {"klant_ean", true, false, "ean", "The customer's EAN-18.", {}},
};

const char* const k_consent_schema =
    R"({"type":"object","required":["klant_ean","toestemming","gewijzigd"],)"
    R"("additionalProperties":false,"properties":{"klant_ean":{"$ref":"#/components/schemas/Ean"},)"
    R"("toestemming":{"type":"boolean","description":"Whether data of this customer may be )"
    R"(served now."},"gewijzigd":{"type":"boolean","description":"false when the consent was )"
    R"(already so: nothing was recorded."}}})";

}  // namespace

const OperationDoc api::k_consent_put_doc{
    "grantConsent",
    "Grant a customer's consent (admin)",
    "Records that data of this customer may be served. Idempotent: when consent is already "
    "granted nothing is recorded and gewijzigd is false. Every change is kept in the consent "
    "history with the admin client's name, and the call is audited.",
    nullptr,
    &k_klant_path,
    "Consent",
    false,
    {400, 401, 403, 429, 500, 503},
    {{"Consent", k_consent_schema}}};

const OperationDoc api::k_consent_delete_doc{
    "revokeConsent",
    "Revoke a customer's consent (admin)",
    "Records that data of this customer may no longer be served; it takes effect on the next "
    "request. Idempotent like the grant.",
    nullptr,
    &k_klant_path,
    "Consent",
    false,
    {400, 401, 403, 429, 500, 503},
    {{"Consent", k_consent_schema}}};

http::Response Api::consent_put(Ctx& ctx) {
    return set_consent(ctx, true);
}

http::Response Api::consent_delete(Ctx& ctx) {
    return set_consent(ctx, false);
}

http::Response Api::set_consent(Ctx& ctx, bool granted) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    auto klant = Ean18::parse(ctx.path_arg);
    if (!klant)
        return error(ctx, 400, "invalid_parameter",
                     "klant_ean \"" + ctx.path_arg.substr(0, 32) + "\": " + klant.error().message);
    ctx.audit.klant_ean = klant->to_string();
    auto active = store_.consent_active(*klant);
    if (!active)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + active.error().message);
    const bool change = *active != granted;
    if (change) {
        const SysS now = time_point_cast<seconds>(clock_.utc_now());
        if (Status st = store_.record_consent(*klant, granted, now, "api:" + ctx.who->client); !st)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + st.error().message);
        data_changed();
        log::info("api", "consent ", granted ? "granted" : "revoked", " for ", klant->str(), " by ",
                  ctx.who->client, " [", ctx.corr, "]");
    }
    ctx.audit.rows = change ? 1 : 0;
    http::Response r;
    r.no_store = true;
    JsonWriter w;
    w.object().field("klant_ean", klant->str()).key("toestemming").boolean(granted);
    w.key("gewijzigd").boolean(change).end();
    r.body = std::move(w).take();
    return r;
}

}  // namespace gw
