import { startCosmosStandIn } from './cosmos-standin';

/** `npm run cosmos:standin`: the Cosmos stand-in on its own, for `func start` (see local.settings.sample.json). */
startCosmosStandIn(Number(process.env.COSMOS_STANDIN_PORT ?? 8081)).then((standIn) => {
  console.log(`Cosmos DB stand-in listening. COSMOS_CONNECTION=${standIn.connectionString}`);
});
