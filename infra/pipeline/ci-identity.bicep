targetScope = 'subscription'

// The delivery pipeline's Azure identity (.gitlab-ci.yml), deployed once by a subscription owner:
//   az deployment sub create -l <region> -f infra/pipeline/ci-identity.bicep \
//     -p gitlabUrl=https://gitlab.example.com gitlabProjectPath=<group>/<project>
// A user-assigned managed identity with a federated credential that trusts GitLab ID tokens of the project's default
// branch (OIDC workload identity federation: no client secret exists). Put the outputs into the project's CI/CD
// variables AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID.

@description('Region of the identity\'s resource group.')
param location string

@description('Base URL of the GitLab instance; it is the issuer of its ID tokens.')
param gitlabUrl string

@description('Path of the project on GitLab, <group>/<project>.')
param gitlabProjectPath string

@description('Branch whose pipelines may sign in (the pipeline deploys only from the default branch).')
param branch string = 'main'

param resourceGroupName string = 'rg-image-pipeline-ci'
param identityName string = 'id-image-pipeline-ci'

// Roles the template (infra/bicep) assigns; the CI identity may assign these and no others.
var assignableRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor (Event Grid dead-lettering)
  'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' // Azure Event Hubs Data Receiver
  '2b629674-e913-4c01-ae53-ef4638d8f975' // Azure Event Hubs Data Sender
  '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
]
var contributorRoleId = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
var rbacAdministratorRoleId = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' // Role Based Access Control Administrator
var roleList = join(assignableRoles, ', ')
// Azure ABAC condition (version 2.0): role assignments may be written and deleted only for the roles above.
var assignOnlyTemplateRoles = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${roleList}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${roleList}}))'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
}

module identity 'ci-identity-resources.bicep' = {
  name: 'ciIdentity'
  scope: rg
  params: {
    name: identityName
    location: location
    issuer: gitlabUrl
    subject: 'project_path:${gitlabProjectPath}:ref_type:branch:ref:${branch}'
  }
}

// Deploys every resource of the template (subscription scope: it creates the resource groups).
resource contributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, identityName, contributorRoleId)
  properties: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributorRoleId)
  }
}

// Creates the template's role assignments, constrained to its roles.
resource rbacAdministrator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, identityName, rbacAdministratorRoleId)
  properties: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministratorRoleId)
    conditionVersion: '2.0'
    condition: assignOnlyTemplateRoles
  }
}

output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_SUBSCRIPTION_ID string = subscription().subscriptionId
