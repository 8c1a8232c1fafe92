// The writers the library itself uses, compiled once here.
#include "coronet/runtime/background_writer.hpp"

#include "coronet/net/socket.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet {

template class background_writer<tcp::socket>;
template class background_writer<tls::stream>;

}  // namespace coronet
