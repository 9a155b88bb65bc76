// A fresh temporary directory per test, removed afterwards.
#pragma once

#include <string>

namespace gw::test {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

/// Whole file contents (binary), or "" if unreadable.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& contents);

}  // namespace gw::test
