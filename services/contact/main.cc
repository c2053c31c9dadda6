// crm-contact: the contact service alone, normally on Kafka (--log kafka).
#include "services/node/node.h"

int main(int argc, char** argv) {
  return crm::node::RunNode(
      argc, argv,
      {.program = "crm-contact",
       .description = "The CRM contact service (crm.contact.v1.ContactService).",
       .default_listen = "127.0.0.1:7071",
       .contact = true,
       .interaction = false,
       .sales = false,
       .analytics = false});
}
