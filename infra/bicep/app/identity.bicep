// The function app's user-assigned identity. The azd templates create it with the AVM module
// avm/res/managed-identity/user-assigned-identity; it is a native resource here so that the template compiles without
// the public module registry (CI has no access to it). Outputs are named as the AVM module's.

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
