// The Modbus TCP server.
#include "gw/modbus_server/modbus_server.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

#include "gw/core/log.hpp"

namespace gw {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono;

namespace {

constexpr const char* k_log = "modbus-server";
constexpr int k_illegal_function = 0x01;
constexpr int k_illegal_address = 0x02;
constexpr int k_illegal_value = 0x03;
constexpr int k_busy = 0x06;
constexpr int k_path_unavailable = 0x0A;
constexpr int k_target_failed = 0x0B;

/// The exception code a failed bus read carries ("... exception 2 (illegal data address)"), or
/// 0x0B when the meter did not answer at all.
int exception_of(const Error& e) {
    if (e.code != Errc::modbus_exception) return k_target_failed;
    const auto at = e.message.rfind("exception ");
    if (at == std::string::npos) return k_target_failed;
    const int code = std::atoi(e.message.c_str() + at + 10);
    return code > 0 && code < 256 ? code : k_target_failed;
}

}  // namespace

class ModbusServer::Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(ModbusServer& server, tcp::socket socket, std::string address)
        : server_(server),
          socket_(std::move(socket)),
          idle_(server.io_),
          address_(std::move(address)),
          last_active_(steady_clock::now()) {}

    const std::string& address() const { return address_; }
    steady_clock::time_point last_active() const { return last_active_; }
    bool busy() const { return busy_; }

    void start() {
        arm_idle();
        read_header();
    }

    void close() {
        if (!open_) return;
        open_ = false;
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        idle_.cancel();
        server_.closed(this);
    }

    /// Sends the reply PDU for the request being served, then reads the next request.
    void reply(const std::vector<std::uint8_t>& pdu) {
        if (!open_) return;
        const auto len = static_cast<std::uint16_t>(pdu.size() + 1);
        out_ = {head_[0],
                head_[1],
                0,
                0,
                static_cast<std::uint8_t>(len >> 8),
                static_cast<std::uint8_t>(len & 0xFF),
                head_[6]};
        out_.insert(out_.end(), pdu.begin(), pdu.end());
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->busy_ = false;
                              if (ec) return self->close();
                              self->read_header();
                          });
    }

  private:
    void arm_idle() {
        idle_.expires_after(seconds{server_.config_.idle_timeout_s});
        idle_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || !self->open_) return;
            ++self->server_.counters_.evicted;
            self->close();
        });
    }

    void read_header() {
        asio::async_read(socket_, asio::buffer(head_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return self->close();
                             self->on_header();
                         });
    }

    void on_header() {
        const int protocol = (head_[2] << 8) | head_[3];
        const int length = (head_[4] << 8) | head_[5];
        // The length counts the unit id and the PDU, which is 253 bytes at most.
        if (protocol != 0 || length < 2 || length > 254) {
            ++server_.counters_.bad_frames;
            log::debug(k_log, "closing ", address_, ": not a Modbus TCP frame (protocol ", protocol,
                       ", length ", length, ")");
            return close();
        }
        pdu_.resize(static_cast<std::size_t>(length - 1));
        asio::async_read(socket_, asio::buffer(pdu_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return self->close();
                             self->on_request();
                         });
    }

    void on_request() {
        last_active_ = steady_clock::now();
        arm_idle();
        busy_ = true;
        std::vector<std::uint8_t> answer = server_.handle(shared_from_this(), head_[6], pdu_);
        if (!answer.empty()) reply(answer);
    }

    ModbusServer& server_;
    tcp::socket socket_;
    asio::steady_timer idle_;
    std::string address_;
    steady_clock::time_point last_active_;
    std::array<std::uint8_t, 7> head_{};
    std::vector<std::uint8_t> pdu_;
    std::vector<std::uint8_t> out_;
    bool open_ = true;
    bool busy_ = false;
};

ModbusServer::ModbusServer(asio::io_context& io, const ModbusServerConfig& config,
                           const std::vector<ServedUnit>& units, const Clock& clock)
    : io_(io), config_(config), clock_(clock), acceptor_(io), relay_(std::make_shared<Relay>()) {
    relay_->io = &io;
    for (const ServedUnit& u : units) units_[u.unit_id] = u;
}

ModbusServer::~ModbusServer() {
    stop();
    // A bus poller may outlive us with reads still queued: their answers go nowhere now.
    std::lock_guard lock(relay_->mutex);
    relay_->io = nullptr;
}

void ModbusServer::Relay::post(std::function<void()> fn) {
    std::lock_guard lock(mutex);
    if (io == nullptr) return;
    asio::post(*io, [self = shared_from_this(), fn = std::move(fn)] {
        {
            std::lock_guard held(self->mutex);
            if (self->io == nullptr) return;
        }
        fn();
    });
}

Status ModbusServer::start() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(config_.listen_host, ec);
    if (ec)
        return make_error(Errc::config_invalid, "modbus_server.listen: \"" + config_.listen_host +
                                                    "\" is not an IP address");
    const tcp::endpoint ep(address, config_.listen_port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(Errc::config_invalid,
                          "modbus_server: cannot listen on " + config_.listen_host + ":" +
                              std::to_string(config_.listen_port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    log::info(k_log, "Modbus TCP server on ", config_.listen_host, ":", port_, " for ",
              units_.size(), " unit(s); no authentication: keep it on the site LAN");
    accept();
    return {};
}

void ModbusServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto all = connections_;
    for (auto& c : all) c->close();
}

void ModbusServer::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (stopped_) return;
        if (!ec) admit(std::move(socket));
        accept();
    });
}

void ModbusServer::admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    const std::string address = remote.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    // Full (in total, or for this address): the longest idle connection makes room, so that a
    // controller that lost a half-open connection can always come back.
    auto make_room = [&](bool same_address, std::size_t limit) {
        std::vector<std::shared_ptr<Connection>> pool;
        for (auto& c : connections_)
            if (!same_address || c->address() == address) pool.push_back(c);
        if (pool.size() < limit) return;
        auto oldest = std::min_element(pool.begin(), pool.end(), [](const auto& a, const auto& b) {
            return a->last_active() < b->last_active();
        });
        ++counters_.evicted;
        log::debug(k_log, "connections full: closing the longest idle, from ",
                   (*oldest)->address());
        (*oldest)->close();
    };
    make_room(true, static_cast<std::size_t>(config_.max_connections_per_address));
    make_room(false, static_cast<std::size_t>(config_.max_connections));
    ++counters_.connections;
    auto c = std::make_shared<Connection>(*this, std::move(socket), address);
    connections_.push_back(c);
    c->start();
}

void ModbusServer::closed(Connection* c) {
    std::erase_if(connections_, [c](const auto& p) { return p.get() == c; });
}

std::vector<std::uint8_t> ModbusServer::exception(int function, int code) {
    ++counters_.exceptions;
    if (code == k_target_failed) ++counters_.stale;
    return {static_cast<std::uint8_t>((function | 0x80) & 0xFF), static_cast<std::uint8_t>(code)};
}

std::vector<std::uint8_t> ModbusServer::handle(const std::shared_ptr<Connection>& c, int unit,
                                               const std::vector<std::uint8_t>& pdu) {
    ++counters_.requests;
    const int fc = pdu[0];
    const auto it = units_.find(unit);
    if (it == units_.end()) return exception(fc, k_path_unavailable);
    const ServedUnit& u = it->second;
    if (fc == 6 || fc == 16) return write(c, u, pdu);
    if (fc != 3 && fc != 4) return exception(fc, k_illegal_function);
    if (pdu.size() != 5) return exception(fc, k_illegal_value);
    const auto start = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
    const auto count = static_cast<std::uint16_t>((pdu[3] << 8) | pdu[4]);
    if (count < 1 || count > 125) return exception(fc, k_illegal_value);
    if (unsigned{start} + count > 65536) return exception(fc, k_illegal_address);

    const RegFunction function = fc == 3 ? RegFunction::holding : RegFunction::input;
    std::vector<std::uint16_t> words(count);
    switch (u.poller->cache().read(u.meter, function, start, count, clock_.steady_now(),
                                   words.data())) {
        case RegisterCache::Outcome::served: {
            ++counters_.from_cache;
            std::vector<std::uint8_t> out{static_cast<std::uint8_t>(fc),
                                          static_cast<std::uint8_t>(2 * count)};
            for (std::uint16_t w : words) {
                out.push_back(static_cast<std::uint8_t>(w >> 8));
                out.push_back(static_cast<std::uint8_t>(w & 0xFF));
            }
            return out;
        }
        case RegisterCache::Outcome::stale:
            return exception(fc, k_target_failed);
        case RegisterCache::Outcome::not_polled:
            break;
    }
    if (!u.passthrough) return exception(fc, k_illegal_address);

    PassRead read;
    read.unit = u.poller->meters()[u.meter].unit_id;
    read.function = function;
    read.start = start;
    read.count = count;
    read.expires = clock_.steady_now() + seconds{5};
    read.done = [this, relay = relay_, weak = std::weak_ptr<Connection>(c), fc](
                    const Status& st, std::vector<std::uint16_t> got) {
        // On the bus thread: hand the outcome to the io thread.
        relay->post([this, weak, fc, st, got = std::move(got)] {
            auto conn = weak.lock();
            if (!conn) return;
            if (!st) return conn->reply(exception(fc, exception_of(st.error())));
            ++counters_.passed;
            std::vector<std::uint8_t> out{static_cast<std::uint8_t>(fc),
                                          static_cast<std::uint8_t>(2 * got.size())};
            for (std::uint16_t w : got) {
                out.push_back(static_cast<std::uint8_t>(w >> 8));
                out.push_back(static_cast<std::uint8_t>(w & 0xFF));
            }
            conn->reply(out);
        });
    };
    if (!u.poller->submit(std::move(read), static_cast<std::size_t>(config_.max_queued)))
        return exception(fc, k_busy);
    return {};
}

std::vector<std::uint8_t> ModbusServer::write(const std::shared_ptr<Connection>& c,
                                              const ServedUnit& u,
                                              const std::vector<std::uint8_t>& pdu) {
    const int fc = pdu[0];
    std::uint16_t start = 0;
    std::vector<std::uint16_t> values;
    if (fc == 6) {
        if (pdu.size() != 5) return exception(fc, k_illegal_value);
        start = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
        values = {static_cast<std::uint16_t>((pdu[3] << 8) | pdu[4])};
    } else {
        if (pdu.size() < 6) return exception(fc, k_illegal_value);
        start = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
        const int count = (pdu[3] << 8) | pdu[4];
        if (count < 1 || count > 123 || pdu[5] != 2 * count ||
            pdu.size() != 6 + 2 * static_cast<std::size_t>(count))
            return exception(fc, k_illegal_value);
        for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
            values.push_back(static_cast<std::uint16_t>((pdu[6 + 2 * i] << 8) | pdu[7 + 2 * i]));
    }
    // Only registers the configuration allows, every one of them.
    const std::size_t n = values.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t addr = start + i;
        const bool allowed = std::any_of(u.writable.begin(), u.writable.end(), [&](const auto& r) {
            return addr >= r.first && addr <= r.second;
        });
        if (!allowed) return exception(fc, k_illegal_function);
    }
    PassRead w;
    w.unit = u.poller->meters()[u.meter].unit_id;
    w.start = start;
    w.count = static_cast<std::uint16_t>(n);
    w.values = values;
    w.expires = clock_.steady_now() + seconds{5};
    // The reply echoes the request: FC06 its address and value, FC16 its address and count.
    std::vector<std::uint8_t> echo(pdu.begin(), pdu.begin() + 5);
    w.done = [this, relay = relay_, weak = std::weak_ptr<Connection>(c), fc, echo](
                 const Status& st, const std::vector<std::uint16_t>& /*nothing read*/) {
        relay->post([this, weak, fc, st, echo] {
            auto conn = weak.lock();
            if (!conn) return;
            if (!st) return conn->reply(exception(fc, exception_of(st.error())));
            ++counters_.written;
            conn->reply(echo);
        });
    };
    if (!u.poller->submit(std::move(w), static_cast<std::size_t>(config_.max_queued)))
        return exception(fc, k_busy);
    log::info(k_log, "write of ", n, " register(s) from ", start, " to unit ", u.unit_id,
              " passed to the bus");
    return {};
}

}  // namespace gw
