// Prints, as one line of JSON, what the role needs to know about this mongod:
// its replica set (empty: standalone or not initiated), whether it is PRIMARY
// or SECONDARY, the primary it sees, whether it holds a graylog database, and
// whether it was started with authentication (auth or keyFile). Runs after login.js.
var hello = db.isMaster();
var databases = db.adminCommand({ listDatabases: 1 }).databases || [];
var security = (db.adminCommand({ getCmdLineOpts: 1 }).parsed || {}).security || {};
print(tojson({
  running: true,
  set: hello.setName || "",
  primary: hello.ismaster === true && hello.setName !== undefined,
  secondary: hello.secondary === true,
  seen_primary: hello.primary || "",
  data: databases.some(function (d) { return d.name === "graylog" && !d.empty; }),
  auth: mongodbAuthRequired || security.authorization === "enabled" || security.keyFile !== undefined
}, "", true));
