// Child process helper.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

namespace gw::test {

using namespace std::chrono;

Process::Process(std::vector<std::string> argv, const std::string& stderr_file,
                 const std::vector<std::pair<std::string, std::string>>& env) {
    int in_pipe[2], out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in_pipe[0], STDIN_FILENO);
        ::dup2(out_pipe[1], STDOUT_FILENO);
        if (!stderr_file.empty()) {
            const int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) ::dup2(fd, STDERR_FILENO);
        }
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
        for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    in_ = in_pipe[1];
    out_ = out_pipe[0];
    ::signal(SIGPIPE, SIG_IGN);
}

Process::~Process() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGTERM);
        const auto deadline = steady_clock::now() + seconds{2};
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(milliseconds{10});
        }
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
}

std::optional<std::string> Process::read_line(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd p{out_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(out_, buf, sizeof buf);
        if (n <= 0) return std::nullopt;
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> Process::wait_for_line(const std::string& prefix, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        auto line = read_line(duration_cast<milliseconds>(deadline - steady_clock::now()));
        if (!line) return std::nullopt;
        if (line->rfind(prefix, 0) == 0) return line;
    }
    return std::nullopt;
}

void Process::write_line(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(in_, l.data(), l.size()) < 0) { /* the child is gone; the test will notice */
    }
}

int Process::kill_and_wait(int signal) {
    int status = 0;
    if (reaped_) return 0;
    ::kill(pid_, signal);
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
}

bool Process::running() {
    if (reaped_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return false;
    }
    return true;
}

static int next_pty_id() {
    static int n = 0;
    return n++;
}

PtyPair::PtyPair(const std::string& dir) : PtyPair(dir, next_pty_id()) {}

PtyPair::PtyPair(const std::string& dir, int id)
    : PtyPair(dir, dir + "/pty-" + std::to_string(id) + "a",
              dir + "/pty-" + std::to_string(id) + "b") {}

PtyPair::PtyPair(const std::string& dir, const std::string& a, const std::string& b)
    : a_(a),
      b_(b),
      socat_({"socat", "-d", "pty,raw,echo=0,link=" + a_, "pty,raw,echo=0,link=" + b_},
             dir + "/socat.log") {
    const auto deadline = steady_clock::now() + seconds{5};
    struct stat sb {};
    while (::stat(a_.c_str(), &sb) != 0 || ::stat(b_.c_str(), &sb) != 0) {
        if (steady_clock::now() > deadline)
            throw std::runtime_error("socat did not create the pty pair");
        std::this_thread::sleep_for(milliseconds{10});
    }
}

}  // namespace gw::test
