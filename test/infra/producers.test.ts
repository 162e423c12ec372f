// Infrastructure for producers outside the app and for the path from the data centre: the roles producerPrincipalIds
// get (and how narrowly), and the optional VPN gateway and DNS resolver behind vnetEnabled.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CONTAINERS } from '../../src/lib/names.js';
import {
  type BicepFile,
  bicepDir,
  declarationBody,
  declarationName,
  declarations,
  declaredTypeOrPath,
  decoratorArguments,
  evaluate,
  fileResolver,
  findDeclaration,
  isExisting,
  loopSource,
  parseBicepFile,
  property,
  propertyPath,
  type Node,
} from './bicep-ast.js';

// Built-in role definition ids, as Azure documents them ("Azure built-in roles").
const EVENT_HUBS_DATA_SENDER = '2b629674-e913-4c01-ae53-ef4638d8f975';
const STORAGE_BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';

const files: Record<string, BicepFile> = {};
beforeAll(async () => {
  for (const name of ['main.bicep', 'app/producer-rbac.bicep', 'app/storage.bicep', 'app/vnet.bicep', 'app/vpn-gateway.bicep', 'app/dns-resolver.bicep']) {
    files[name] = await parseBicepFile(path.join(bicepDir, name));
  }
});

/** The module declaration of `modulePath`; `name` picks one where the file calls it more than once (the standby region). */
const moduleOf = (file: BicepFile, modulePath: string, name?: string): Node => {
  const found = declarations(file, 'module_declaration').filter((m) => declaredTypeOrPath(m) === modulePath && (!name || declarationName(m) === name));
  expect(found, `one module ${modulePath}${name ? ` named ${name}` : ''}`).toHaveLength(1);
  return found[0]!;
};
/** The `if (...)` condition of a conditional declaration, as written. */
const condition = (decl: Node) => decl.namedChildren.find((c) => c?.type === 'if_statement')?.namedChildren[0]?.text;
const paramDefault = (file: BicepFile, name: string) => {
  const decl = findDeclaration(file, 'parameter_declaration', name);
  expect(decl, `param ${name}`).toBeDefined();
  return evaluate(decl!.namedChildren.filter((c) => c?.type !== 'comment').at(-1) ?? undefined);
};
/** A VNet subnet list that exists only when its prefix is set (`empty(prefix) ? [] : [...]`), with the prefix as 'PREFIX'. */
function optionalSubnets(variable: string) {
  const vnet = files['app/vnet.bicep'];
  const value = findDeclaration(vnet, 'variable_declaration', variable)!.namedChildren.at(-1)!;
  expect(value.type).toBe('ternary_expression');
  expect(value.childForFieldName('consequence')?.text).toBe('[]');
  const resolve = fileResolver(vnet);
  return evaluate(value.childForFieldName('alternative') ?? undefined, (name) => (name.endsWith('Prefix') ? 'PREFIX' : resolve(name)));
}
const vnetParam = (name: string) => property(property(declarationBody(moduleOf(files['main.bicep'], 'app/vnet.bicep', 'vnet')), 'params')!, name)?.text;
const resources = (file: BicepFile, type: string) =>
  declarations(file, 'resource_declaration').filter((r) => declaredTypeOrPath(r).toLowerCase().startsWith(`${type.toLowerCase()}@`));

describe('producerPrincipalIds: Event Hubs Data Sender on the hub, blob write on the batches container, nothing wider', () => {
  it('main.bicep takes the list (none by default) and passes it with the hub and the batches container', () => {
    const main = files['main.bicep'];
    expect(paramDefault(main, 'producerPrincipalIds')).toEqual([]);
    const params = property(declarationBody(moduleOf(main, 'app/producer-rbac.bicep', 'producerRbac')), 'params')!;
    expect(property(params, 'principalIds')?.text).toBe('producerPrincipalIds');
    // Names known when the deployment starts, so what-if can predict the role assignments.
    expect(property(params, 'eventHubName')?.text).toBe('eventHubName');
    expect(property(params, 'eventHubsNamespaceName')?.text).toBe('eventHubsNamespaceName');
    // The code's batches container, which storage.bicep creates.
    expect(property(params, 'batchesContainerName')?.text).toBe(`'${BLOB_CONTAINERS.batches}'`);
    // The hub is in the namespace that is active; in the other one the geo-DR pairing creates it later.
    expect(property(params, 'scopeToHub')?.text).toBe("activeRegion == 'primary' || !secondaryEnabled");
    // The same producers keep sending after a failover: roles on the secondary region's namespace and batches container.
    const standby = property(declarationBody(moduleOf(main, 'app/producer-rbac.bicep', 'standbyProducerRbac')), 'params')!;
    expect(property(standby, 'principalIds')?.text).toBe('producerPrincipalIds');
    expect(property(standby, 'eventHubsNamespaceName')?.text).toBe('eventHubsSecondaryNamespaceName');
    expect(property(standby, 'storageAccountName')?.text).toBe('standbyStorageAccountName');
    expect(property(standby, 'scopeToHub')?.text).toBe("activeRegion == 'secondary'");
    expect(fileResolver(files['app/storage.bicep'])('appContainerNames')).toContain(BLOB_CONTAINERS.batches);
  });

  it('assigns exactly two roles per producer, scoped to the hub (or the geo-DR secondary namespace) and to the container', () => {
    const rbac = files['app/producer-rbac.bicep'];
    const resolve = fileResolver(rbac);
    const assignments = resources(rbac, 'Microsoft.Authorization/roleAssignments');
    expect(assignments).toHaveLength(3);
    expect(assignments.map((a) => /for principalId in principalIds: (if \((.+?)\) )?\{/.exec(a.text)?.[2])).toEqual(['scopeToHub', '!scopeToHub', undefined]);
    const byScope = Object.fromEntries(
      assignments.map((a) => {
        const body = declarationBody(a);
        expect(loopSource(a)?.text).toBe('principalIds');
        const role = propertyPath(body, 'properties', 'roleDefinitionId')!.text.match(/roles\.(\w+)/)![1];
        return [property(body, 'scope')!.text, (resolve('roles') as Record<string, string>)[role]];
      }),
    );
    expect(byScope).toEqual({ hub: EVENT_HUBS_DATA_SENDER, namespace: EVENT_HUBS_DATA_SENDER, batchesContainer: STORAGE_BLOB_DATA_CONTRIBUTOR });
    // the scopes are the hub and the container themselves, not the namespace or the account
    const scopeType = (name: string) => declaredTypeOrPath(findDeclaration(rbac, 'resource_declaration', name)!).split('@')[0];
    expect(scopeType('hub')).toBe('Microsoft.EventHub/namespaces/eventhubs');
    expect(scopeType('batchesContainer')).toBe('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(property(declarationBody(findDeclaration(rbac, 'resource_declaration', 'batchesContainer')!), 'name')?.text).toBe('batchesContainerName');
    for (const name of ['hub', 'batchesContainer', 'namespace', 'storage']) expect(isExisting(findDeclaration(rbac, 'resource_declaration', name)!), name).toBe(true);
  });
});

describe('the path from the data centre (vnetEnabled): optional VPN gateway and DNS resolver', () => {
  it('both are off by default and deploy only with vnetEnabled', () => {
    const main = files['main.bicep'];
    expect(paramDefault(main, 'dataCentreVpnEnabled')).toBe(false);
    expect(paramDefault(main, 'dataCentreDnsResolverEnabled')).toBe(false);
    expect(condition(moduleOf(main, 'app/vpn-gateway.bicep'))).toBe('(vnetEnabled && dataCentreVpnEnabled)');
    expect(condition(moduleOf(main, 'app/dns-resolver.bicep'))).toBe('(vnetEnabled && dataCentreDnsResolverEnabled)');
    // the pre-shared key is a secure parameter all the way down
    expect(decoratorArguments(findDeclaration(main, 'parameter_declaration', 'dataCentreVpnSharedKey')!, 'secure')).toEqual([]);
    expect(decoratorArguments(findDeclaration(files['app/vpn-gateway.bicep'], 'parameter_declaration', 'sharedKey')!, 'secure')).toEqual([]);
  });

  it('VPN: route-based gateway in GatewaySubnet, IKEv2 IPsec connection to the data centre\'s device', () => {
    const vpn = files['app/vpn-gateway.bicep'];
    const gateway = declarationBody(resources(vpn, 'Microsoft.Network/virtualNetworkGateways')[0]!);
    expect(evaluate(propertyPath(gateway, 'properties', 'gatewayType'))).toBe('Vpn');
    expect(evaluate(propertyPath(gateway, 'properties', 'vpnType'))).toBe('RouteBased');
    const connection = declarationBody(resources(vpn, 'Microsoft.Network/connections')[0]!);
    expect(evaluate(propertyPath(connection, 'properties', 'connectionType'))).toBe('IPsec');
    expect(evaluate(propertyPath(connection, 'properties', 'connectionProtocol'))).toBe('IKEv2');
    expect(resources(vpn, 'Microsoft.Network/localNetworkGateways')).toHaveLength(1);
    // Azure accepts no other name for a gateway subnet; the VNet gets it only with the VPN
    expect(optionalSubnets('gatewaySubnets')).toEqual([{ name: 'GatewaySubnet', properties: { addressPrefix: 'PREFIX' } }]);
    expect(vnetParam('gatewaySubnetPrefix')).toBe("dataCentreVpnEnabled ? gatewaySubnetPrefix : ''");
  });

  it('DNS: a resolver inbound endpoint in its own delegated subnet, its address an output for the data centre\'s forwarders', () => {
    const dns = files['app/dns-resolver.bicep'];
    expect(resources(dns, 'Microsoft.Network/dnsResolvers')).toHaveLength(1);
    expect(resources(dns, 'Microsoft.Network/dnsResolvers/inboundEndpoints')).toHaveLength(1);
    expect(optionalSubnets('dnsResolverSubnets')).toEqual([
      {
        name: 'dns-resolver-inbound',
        properties: { addressPrefix: 'PREFIX', delegations: [{ name: 'dns-resolver', properties: { serviceName: 'Microsoft.Network/dnsResolvers' } }] },
      },
    ]);
    expect(vnetParam('dnsResolverSubnetPrefix')).toBe("dataCentreDnsResolverEnabled ? dnsResolverSubnetPrefix : ''");
    const outputs = declarations(files['main.bicep'], 'output_declaration').map((o) => o.text);
    expect(outputs.some((o) => o.startsWith('output DATA_CENTRE_DNS_FORWARD_TO string') && o.includes('dnsResolver!.outputs.inboundAddress'))).toBe(true);
  });
});
