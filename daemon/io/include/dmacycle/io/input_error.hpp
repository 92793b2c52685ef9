#pragma once
#include <stdexcept>

namespace dmacycle::io {

// The one-line reason an input was refused: "FILE:LINE: problem" (LINE omitted when it does not
// apply). Every reader of files, job text and command lines throws it.
class InputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace dmacycle::io
