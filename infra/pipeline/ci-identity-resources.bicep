// The CI identity and its federated credential (see ci-identity.bicep).

param name string
param location string

@description('Issuer of the ID tokens (the GitLab base URL).')
param issuer string

@description('Subject claim the tokens must carry: project_path:<group>/<project>:ref_type:branch:ref:<branch>.')
param subject string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
}

resource gitlab 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'gitlab-default-branch'
  properties: {
    issuer: issuer
    subject: subject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
