// crm-node: every CRM service in one process on the embedded event log — the zero-dependency
// way to run the CRM. See services/node/node.h.
#include "services/node/node.h"

int main(int argc, char** argv) {
  return crm::node::RunNode(
      argc, argv,
      {.program = "crm-node",
       .description = "The CRM in one process: all services on the embedded event log.",
       .default_listen = "127.0.0.1:7070",
       .contact = true});
}
