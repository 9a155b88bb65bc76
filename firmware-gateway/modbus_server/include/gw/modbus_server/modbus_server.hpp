// A Modbus TCP server that shares the meters with a park controller: each configured unit id
// answers with one meter's own register map, from the gateway's latest poll, so that a second
// master adds no bus traffic. Modbus has no authentication: bind it to the site LAN.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/drivers/bus_poller.hpp"

namespace gw {

/// One unit id the server answers for, and where that meter's registers come from.
struct ServedUnit {
    int unit_id = 1;
    BusPoller* poller = nullptr;  ///< the meter's bus
    std::size_t meter = 0;        ///< the meter's index on that bus
    bool passthrough = false;
    /// Holding registers a client may write (first..last), passed to the bus.
    std::vector<std::pair<std::uint16_t, std::uint16_t>> writable;
};

/// What the server did, for status and metrics. Read from any thread.
struct ModbusServerCounters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> from_cache{0};   ///< answered from the latest poll
    std::atomic<std::uint64_t> passed{0};       ///< read from the bus for the client
    std::atomic<std::uint64_t> written{0};      ///< allowed writes the meter acknowledged
    std::atomic<std::uint64_t> exceptions{0};   ///< exception replies of any code
    std::atomic<std::uint64_t> stale{0};        ///< of those: 0x0B, the meter is not answering
    std::atomic<std::uint64_t> bad_frames{0};   ///< connections closed for a broken frame
    std::atomic<std::uint64_t> connections{0};  ///< accepted
    std::atomic<std::uint64_t> evicted{0};      ///< closed to make room, or idle too long
};

/// Protocol:
/// - FC03 and FC04 of registers the meter's polls read: from the latest poll while the polls
///   succeed (RegisterCache); from the first failed poll, or two periods without one,
///   exception 0x0B, never stale values.
/// - Other registers: with `passthrough`, queued for the bus between the gateway's own polls
///   (0x06 when the queue is full; the meter's own exception, or 0x0B when it does not answer);
///   without, exception 0x02.
/// - Writes (FC06, FC16) of registers the unit's `writable` ranges allow: passed to the bus like
///   a pass-through read, and the meter's answer returned; any other write: 0x01.
/// - An unknown unit id: exception 0x0A. Any other function: 0x01. A count outside 1..125 or a
///   malformed PDU: 0x03.
/// - A frame whose MBAP header is not Modbus (protocol id, length) closes the connection.
/// Bounds: max_connections in total and per address (a new one closes the longest idle),
/// idle_timeout_s, one request at a time per connection.
///
/// Thread-safety: runs on `io`'s thread; start/stop from there or before io runs.
class ModbusServer {
  public:
    ModbusServer(boost::asio::io_context& io, const ModbusServerConfig& config,
                 const std::vector<ServedUnit>& units, const Clock& clock);
    ~ModbusServer();
    ModbusServer(const ModbusServer&) = delete;
    ModbusServer& operator=(const ModbusServer&) = delete;

    /// Binds and listens; the error names the address.
    Status start();
    void stop();
    std::uint16_t port() const { return port_; }
    const ModbusServerCounters& counters() const { return counters_; }

    /// The reply PDU to request `pdu` for `unit`, as a connection gets it; empty when the request
    /// went to the bus queue (its answer then has nowhere to go). For the fuzz target.
    std::vector<std::uint8_t> answer(int unit, const std::vector<std::uint8_t>& pdu) {
        return pdu.empty() ? std::vector<std::uint8_t>{} : handle(nullptr, unit, pdu);
    }

    class Connection;

  private:
    friend class Connection;
    void accept();
    void admit(boost::asio::ip::tcp::socket socket);
    void closed(Connection* c);
    /// The reply PDU to a request PDU, or empty when the answer comes later (pass-through).
    std::vector<std::uint8_t> handle(const std::shared_ptr<Connection>& c, int unit,
                                     const std::vector<std::uint8_t>& pdu);
    std::vector<std::uint8_t> write(const std::shared_ptr<Connection>& c, const ServedUnit& u,
                                    const std::vector<std::uint8_t>& pdu);
    std::vector<std::uint8_t> exception(int function, int code);

    boost::asio::io_context& io_;
    ModbusServerConfig config_;
    std::map<int, ServedUnit> units_;
    const Clock& clock_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::vector<std::shared_ptr<Connection>> connections_;
    ModbusServerCounters counters_;
    bool stopped_ = false;
    /// Carries a bus thread's answer to the io thread while this server lives (and not after).
    struct Relay : std::enable_shared_from_this<Relay> {
        std::mutex mutex;
        boost::asio::io_context* io = nullptr;
        void post(std::function<void()> fn);
    };
    std::shared_ptr<Relay> relay_;
};

}  // namespace gw
