// Child processes for integration tests: started with pipes, stopped by PID, never by name.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gw::test {

class Process {
  public:
    /// Starts argv[0] with argv; stdin and stdout are pipes, stderr goes to `stderr_file` (or
    /// inherits).
    explicit Process(std::vector<std::string> argv, const std::string& stderr_file = "",
                     const std::vector<std::pair<std::string, std::string>>& env = {});
    ~Process();  ///< SIGTERM, then SIGKILL after 2 s, and reap
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    /// The next stdout line, waiting at most `timeout`.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    /// Reads lines until one starts with `prefix` (at most `timeout` in all).
    std::optional<std::string> wait_for_line(const std::string& prefix,
                                             std::chrono::milliseconds timeout);
    void write_line(const std::string& line);
    /// Sends `signal` and waits for the exit; returns the wait status.
    int kill_and_wait(int signal);
    bool running();

  private:
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string buffer_;
    bool reaped_ = false;
};

/// A socat pair of pseudo-terminals linked at `a` and `b` (an RS-485 line in a test).
class PtyPair {
  public:
    explicit PtyPair(const std::string& dir);
    /// The same, linked at the given names (to put a line back where it was, like a re-plugged
    /// adapter).
    PtyPair(const std::string& dir, const std::string& a, const std::string& b);
    pid_t pid() const { return socat_.pid(); }
    bool running() { return socat_.running(); }
    const std::string& a() const { return a_; }
    const std::string& b() const { return b_; }

  private:
    PtyPair(const std::string& dir, int id);
    std::string a_, b_;
    Process socat_;
};

}  // namespace gw::test
