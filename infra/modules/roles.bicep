// Built-in Azure role definition ids, in one place so every module grants the same,
// reviewed roles. These are the fixed GUIDs of Microsoft's built-in roles (the same in
// every tenant); infra/check/check.js compares each one against its own copy of the
// list and fails on anything else, so a typo or a custom role cannot slip in.
//
// Needs Bicep >= 0.25 (compile-time imports, @export()).

@export()
@description('Built-in role definition GUIDs used by this app.')
var builtInRoles = {
  // Storage
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Service Bus
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  // Key Vault
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  // Azure Monitor
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
