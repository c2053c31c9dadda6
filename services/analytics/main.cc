// crm-analytics: the analytics service alone, normally on Kafka (--log kafka). It reads the
// topics of the contact, interaction and sales services and its own.
#include "services/node/node.h"

int main(int argc, char** argv) {
  return crm::node::RunNode(
      argc, argv,
      {.program = "crm-analytics",
       .description = "The CRM analytics service (crm.analytics.v1.AnalyticsService).",
       .default_listen = "127.0.0.1:7074",
       .contact = false,
       .interaction = false,
       .sales = false,
       .analytics = true});
}
