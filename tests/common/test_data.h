// Helpers shared by tests: locating tests/data and reading raw little-endian f32 files.
#pragma once

#include <string>
#include <vector>

namespace frugal::testing {

// Absolute path of a file under tests/data (FRUGAL_TEST_DATA_DIR).
std::string data_path(const std::string& relative);
// Reads a whole file of little-endian f32 values; empty on failure.
std::vector<float> read_f32_file(const std::string& path);
// Reads a whole text file; empty on failure.
std::string read_text_file(const std::string& path);

}  // namespace frugal::testing
