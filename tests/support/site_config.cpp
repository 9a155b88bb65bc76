// The test configuration builder.
#include "site_config.hpp"

#include "temp_dir.hpp"

namespace gw::test {

std::string SiteConfig::toml() const {
    std::string t = "[gateway]\nid = \"" + id + "\"\ninterval_s = " + std::to_string(interval_s) +
                    "\nlog_level = \"" + log_level +
                    "\"\ntrust_clock = " + (trust_clock ? "true" : "false") +
                    "\n[storage]\npath = \"" + db + "\"\n";
    if (api)
        t += "[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" GW_TEST_DATA
             "/tls/server.crt\"\ntls_key = \"" GW_TEST_DATA "/tls/server.key\"\n" +
             api_extra + "\n";
    else
        t += "[api]\nenabled = false\n";
    if (!mqtt_uri.empty())
        t += "[mqtt]\nenabled = true\nuri = \"" + mqtt_uri + "\"\n" + mqtt_extra + "\n";
    else
        t += "[mqtt]\nenabled = false\n";
    for (const auto& c : customers) t += "[[customer]]\nklant_ean = \"" + c + "\"\n";
    for (const auto& l : links) {
        t += "[[link]]\nid = \"" + l.id + "\"\ntype = \"" + l.type + "\"\n";
        if (l.type == "tcp")
            t += "host = \"127.0.0.1\"\nport = " + std::to_string(l.port) + "\n";
        else
            t += "device = \"" + l.device + "\"\n";
        t += "response_timeout_ms = " + std::to_string(l.response_timeout_ms) +
             "\nreconnect_max_ms = " + std::to_string(l.reconnect_max_ms) + "\n" + l.extra + "\n";
    }
    for (const auto& m : meters) {
        t += "[[meter]]\nmeter_ean = \"" + m.meter_ean + "\"\nklant_ean = \"" + m.klant_ean +
             "\"\nmeter_type = \"" + m.meter_type + "\"\nlink = \"" + m.link +
             "\"\nunit_id = " + std::to_string(m.unit_id) + "\nprofile = \"" + m.profile +
             "\"\npoll_ms = " + std::to_string(m.poll_ms) + "\n" + m.extra + "\n";
    }
    return t + extra;
}

std::string SiteConfig::write(const std::string& path) const {
    write_file(path, toml());
    return path;
}

}  // namespace gw::test
