// The loopback-only metrics listener of [api] metrics_listen: plain HTTP, GET /metrics only,
// without login, for a Prometheus scraper or node exporter on the device itself.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "gw/core/error.hpp"

namespace gw {

/// Thread-safety: runs on the io_context's thread; `text` is called there.
class MetricsServer {
  public:
    using Text = std::function<std::string()>;
    /// At most this many connections at once; more are closed at once.
    static constexpr int k_max_connections = 4;

    /// Binds host:port (the configuration admits loopback addresses only) and accepts.
    static Result<std::unique_ptr<MetricsServer>> start(boost::asio::io_context& io,
                                                        const std::string& host, std::uint16_t port,
                                                        Text text);
    ~MetricsServer();
    std::uint16_t port() const;
    void stop();

    struct Impl;

  private:
    explicit MetricsServer(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace gw
