// Project error codes (a std::error_category) and a small expected-style Result.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace gw {

/// Named errors of the gateway. Values are stable: they appear in logs and counters.
enum class Errc {
    ok = 0,
    invalid_argument,
    config_invalid,
    store_not_a_database,
    store_foreign_database,
    store_newer_schema,
    store_read_only,
    store_damaged,
    store_io,
    store_full,
    modbus_timeout,
    modbus_exception,
    modbus_crc,
    modbus_bad_reply,
    modbus_connect,
    value_not_available,
    value_not_finite,
    value_implausible,
};

const std::error_category& gateway_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
    return {static_cast<int>(e), gateway_category()};
}

/// An error code with a sentence for the human who reads the log.
struct Error {
    std::error_code code;
    std::string message;
};

inline Error make_error(Errc e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

/// Either a value or an Error. Deliberately tiny: C++20 has no std::expected.
template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const noexcept { return !error_.code; }
    explicit operator bool() const noexcept { return ok(); }
    const Error& error() const { return error_; }

  private:
    Error error_{};
};

}  // namespace gw

template <>
struct std::is_error_code_enum<gw::Errc> : std::true_type {};
