// Jest globalSetup for the end-to-end tier: compile once, as `npm start`
// would, before any suite starts the service.
const { build, needsBuild } = require('../../scripts/start');

module.exports = async function buildOnce() {
  if (needsBuild()) build();
};
