// GET /: the commissioning page (api/page/page.html, built in), for installers. It fetches
// /api/v1/live with the browser's own Basic login; a strict Content-Security-Policy admits only
// its own inline script and style (by hash) and requests to the gateway itself.
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "params.hpp"

namespace gw {

namespace api {
extern const std::string_view k_page_html;
}  // namespace api

using namespace api;

namespace {

/// 'sha256-...' of the text between the first `open` and the next `close` of the page.
std::string inline_hash(std::string_view html, std::string_view open, std::string_view close) {
    const auto a = html.find(open);
    const auto b = a == std::string_view::npos ? a : html.find(close, a + open.size());
    if (b == std::string_view::npos) throw std::logic_error("the page has no " + std::string(open));
    const std::string_view body = html.substr(a + open.size(), b - a - open.size());
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), md);
    std::string b64(4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), md, sizeof md);
    b64.resize(static_cast<std::size_t>(n));
    return "'sha256-" + b64 + "'";
}

const std::string& content_security_policy() {
    static const std::string csp =
        "default-src 'none'; script-src " + inline_hash(k_page_html, "<script>", "</script>") +
        "; style-src " + inline_hash(k_page_html, "<style>", "</style>") +
        "; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'";
    return csp;
}

}  // namespace

const OperationDoc api::k_page_doc{
    "getCommissioningPage",
    "The commissioning page",
    "An HTML page for the installer (roles installer and admin; a reader gets 403): each "
    "meter's live values, link state and counters, the site's clock, MQTT, storage and "
    "certificate, the link and sign checks, and charts of the last 24 hours and of the open "
    "interval. Without credentials the answer is 401 with a Basic challenge, so a browser asks "
    "for the name and secret itself and sends them with the page's own requests. Built into the "
    "gateway: no download, no CDN.",
    nullptr,
    nullptr,
    nullptr,
    false,
    {401, 403, 429, 500},
    {},
    "text/html"};

http::Response Api::page(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    http::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(k_page_html);
    r.no_store = true;
    r.set("Content-Security-Policy", content_security_policy());
    r.set("X-Frame-Options", "DENY");
    r.set("Referrer-Policy", "no-referrer");
    return r;
}

}  // namespace gw
