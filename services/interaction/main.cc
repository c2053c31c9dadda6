// crm-interaction: the interaction service alone, normally on Kafka (--log kafka). It reads the
// contact service's topic for its contact directory.
#include "services/node/node.h"

int main(int argc, char** argv) {
  return crm::node::RunNode(
      argc, argv,
      {.program = "crm-interaction",
       .description = "The CRM interaction service (crm.interaction.v1.InteractionService).",
       .default_listen = "127.0.0.1:7072",
       .contact = false,
       .interaction = true,
       .sales = false,
       .analytics = false});
}
