# azd postdeploy hook (Windows): same as postdeploy.sh. Subscribes the blob extension webhook of processUpload to
# BlobCreated events in uploads/ once the code is deployed (the blobs_extension key exists only after the host started).
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_FUNCTION_APP_NAME', 'AZURE_RESOURCE_GROUP', 'BLOB_SYSTEM_TOPIC_NAME', 'AZURE_STORAGE_ACCOUNT_NAME') {
  if (-not (Get-Item "env:$name" -ErrorAction SilentlyContinue)) { throw "$name is not set (deployment output)" }
}
$app = $env:AZURE_FUNCTION_APP_NAME
$rg = $env:AZURE_RESOURCE_GROUP
$topic = $env:BLOB_SYSTEM_TOPIC_NAME
$container = if ($env:UPLOADS_CONTAINER_NAME) { $env:UPLOADS_CONTAINER_NAME } else { 'uploads' }
$deadLetterContainer = if ($env:DEAD_LETTER_CONTAINER_NAME) { $env:DEAD_LETTER_CONTAINER_NAME } else { 'eventgrid-dead-letters' }
$functionName = if ($env:FUNCTION_NAME) { $env:FUNCTION_NAME } else { 'processUpload' }
$subscriptionName = if ($env:BLOB_EVENT_SUBSCRIPTION_NAME) { $env:BLOB_EVENT_SUBSCRIPTION_NAME } else { 'uploads-blob-created' }

$key = ''
for ($attempt = 1; $attempt -le 20 -and -not $key; $attempt++) {
  $key = az functionapp keys list -n $app -g $rg --query 'systemKeys.blobs_extension' -o tsv 2>$null
  if (-not $key) {
    Write-Host "waiting for the blobs_extension system key (attempt $attempt/20)..."
    try { Invoke-WebRequest -Uri "https://$app.azurewebsites.net/" -UseBasicParsing | Out-Null } catch { }
    Start-Sleep -Seconds 15
  }
}
if (-not $key) { throw "no blobs_extension system key on $app; is processUpload deployed with source EventGrid?" }

$endpoint = "https://$app.azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.$functionName&code=$key"
# Undelivered events (30 attempts or 24 hours) are dead-lettered by the system topic's identity, for a replay.
$storageId = az storage account show -n $env:AZURE_STORAGE_ACCOUNT_NAME -g $rg --query id -o tsv
$deadLetters = "$storageId/blobServices/default/containers/$deadLetterContainer"
az eventgrid system-topic event-subscription create `
  --name $subscriptionName `
  --resource-group $rg `
  --system-topic-name $topic `
  --endpoint-type webhook `
  --endpoint $endpoint `
  --included-event-types Microsoft.Storage.BlobCreated `
  --subject-begins-with "/blobServices/default/containers/$container/" `
  --max-delivery-attempts 30 `
  --event-ttl 1440 `
  --deadletter-identity systemassigned `
  --deadletter-identity-endpoint $deadLetters `
  --output none
if ($LASTEXITCODE -ne 0) { throw 'az eventgrid system-topic event-subscription create failed' }
Write-Host "Event Grid subscription ${subscriptionName}: BlobCreated in $container/ -> $functionName"

# The standby app in the secondary region needs the Linux x64 package (infra/scripts/package.sh), which this hook cannot
# build on Windows: deploy it with postdeploy.sh (WSL, Linux) or the delivery pipeline.
if ($env:AZURE_STANDBY_FUNCTION_APP_NAME) {
  Write-Warning "standby app $($env:AZURE_STANDBY_FUNCTION_APP_NAME) not deployed: run infra/scripts/postdeploy.sh on Linux or WSL (it deploys the package and its Event Grid subscription)"
}
