// crm-sales: the sales service alone, normally on Kafka (--log kafka). It reads the contact
// service's topic for its contact directory.
#include "services/node/node.h"

int main(int argc, char** argv) {
  return crm::node::RunNode(argc, argv,
                            {.program = "crm-sales",
                             .description = "The CRM sales service (crm.sales.v1.SalesService).",
                             .default_listen = "127.0.0.1:7073",
                             .contact = false,
                             .interaction = false,
                             .sales = true,
                             .analytics = false});
}
