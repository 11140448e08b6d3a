// Service Bus namespace (Standard) and the app's queues. Local (SAS) auth is disabled:
// senders and receivers authenticate with Entra ID only.
import { builtInRoles } from 'roles.bicep'

@description('Namespace name (6-50 characters, globally unique).')
param name string
param location string
param tags object

@description('Queues to create; the app both sends to and receives from each one.')
param queueNames array

@description('Principal id of the app\'s user-assigned managed identity.')
param principalId string

// Each delivery of a message runs the handler once more (a non-2xx answer from the Go
// handler abandons the message). 5 gives a transient fault (Graph throttling, a Teams
// 429/5xx, a role assignment still propagating) a few bounded tries, then the message
// goes to the dead-letter queue where a person can see and resubmit it, instead of a
// poison message burning invocations for the default 10 deliveries.
@description('Deliveries before a message is dead-lettered.')
@minValue(1)
@maxValue(20)
param maxDeliveryCount int = 5

@description('Peek-lock duration (ISO 8601). The Functions Service Bus extension renews the lock while the handler runs, up to host.json serviceBus.maxAutoLockRenewalDuration (30 min, = functionTimeout).')
param lockDuration string = 'PT1M'

@description('How long an undelivered message lives before it is dead-lettered (ISO 8601).')
param messageTimeToLive string = 'P14D'

// Sender + Receiver on each queue is the least privilege the code needs. The trade-off:
// the scale controller reads queue length with the app's identity, which needs
// Microsoft.ServiceBus/namespaces/queues/read (in Data Owner, not in Sender/Receiver);
// without it Flex scaling falls back to a less accurate peek-based estimate. Our volumes
// are small, so the default keeps least privilege; set true to trade it for scaling.
@description('Also grant Azure Service Bus Data Owner on the namespace (accurate scale metrics; broader rights).')
param grantDataOwnerForScaling bool = false

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: namespace
    name: queueName
    properties: {
      maxDeliveryCount: maxDeliveryCount
      lockDuration: lockDuration
      defaultMessageTimeToLive: messageTimeToLive
      deadLetteringOnMessageExpiration: true
      enableBatchedOperations: true
    }
  }
]

// Queue scope: narrower than the namespace, and covers both ends of each queue.
resource senderAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: {
    name: guid(queues[i].id, principalId, builtInRoles.serviceBusDataSender)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.serviceBusDataSender)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource receiverAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: {
    name: guid(queues[i].id, principalId, builtInRoles.serviceBusDataReceiver)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.serviceBusDataReceiver)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource ownerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDataOwnerForScaling) {
  name: guid(namespace.id, principalId, builtInRoles.serviceBusDataOwner)
  scope: namespace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.serviceBusDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = namespace.name
output id string = namespace.id
@description('Fully-qualified namespace host name, e.g. sb-govkit-dev-abc123.servicebus.windows.net (taken from the endpoint, so national clouds work).')
output fullyQualifiedNamespace string = split(split(split(namespace.properties.serviceBusEndpoint, '://')[1], '/')[0], ':')[0]
