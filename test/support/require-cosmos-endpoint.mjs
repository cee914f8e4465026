// npm run test:cosmos runs the integration suite against the Cosmos DB account (or official
// emulator) named by COSMOS_ENDPOINT; without one it would only test the embedded emulator again.
if (!process.env.COSMOS_ENDPOINT) {
  console.error(
    'npm run test:cosmos needs COSMOS_ENDPOINT (and COSMOS_KEY, or a signed-in Entra identity allowed to create databases).',
  );
  process.exit(2);
}
console.log(`Integration suite against ${process.env.COSMOS_ENDPOINT}`);
