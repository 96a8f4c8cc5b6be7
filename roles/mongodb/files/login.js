// Prefix of every mongo call of the role, after `var mongodbLoginFile = "..."`.
// When mongod asks for authentication, logs in as the administrator whose
// credentials the role keeps in that root-only file, so that no password ever
// goes on a command line. Sets mongodbAuthRequired for state.js.
var mongodbAuthRequired = db.adminCommand({ listDatabases: 1 }).code === 13;
if (mongodbAuthRequired) {
  load(mongodbLoginFile);
}
