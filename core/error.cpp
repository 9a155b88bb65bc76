// Names for gw::Errc values.
#include "gw/core/error.hpp"

namespace gw {
namespace {

class GatewayCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "gateway"; }
    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
            case Errc::ok:
                return "ok";
            case Errc::invalid_argument:
                return "invalid argument";
            case Errc::config_invalid:
                return "invalid configuration";
            case Errc::store_not_a_database:
                return "store file is not an SQLite database";
            case Errc::store_foreign_database:
                return "store file belongs to another application";
            case Errc::store_newer_schema:
                return "store schema is newer than this program";
            case Errc::store_read_only:
                return "store is read-only";
            case Errc::store_damaged:
                return "store is damaged";
            case Errc::store_io:
                return "store I/O error";
            case Errc::store_full:
                return "store's disk is full";
            case Errc::modbus_timeout:
                return "modbus timeout";
            case Errc::modbus_exception:
                return "modbus exception reply";
            case Errc::modbus_crc:
                return "modbus CRC error";
            case Errc::modbus_bad_reply:
                return "modbus malformed reply";
            case Errc::modbus_connect:
                return "modbus connect failed";
            case Errc::value_not_available:
                return "value not available (sentinel)";
            case Errc::value_not_finite:
                return "value not finite";
            case Errc::value_implausible:
                return "value outside plausibility limits";
        }
        return "unknown gateway error";
    }
};

}  // namespace

const std::error_category& gateway_category() noexcept {
    static const GatewayCategory category;
    return category;
}

}  // namespace gw
