// Read from stdin after login.js and `var users = [{name, password, database,
// roles}]`, on the standalone server or the replica set's primary: creates each
// missing user and corrects the password or roles of one that differs. The last
// line printed is {"changed": [names]}.
var changed = [];
// Acknowledged by the primary alone: MongoDB's default for users (a majority) would
// wait for a new member's initial sync, about 20 s; switch_auth.yml waits for every
// member before anything relies on the others having the users.
var primaryOnly = { w: 1 };
var byName = function (a, b) { return tojson(a) < tojson(b) ? -1 : 1; };
users.forEach(function (u) {
  var target = db.getSiblingDB(u.database);
  var roles = u.roles.map(function (r) { return { role: r, db: u.database }; }).sort(byName);
  var found = target.getUser(u.name);
  if (found === null) {
    target.createUser({ user: u.name, pwd: u.password, roles: roles }, primaryOnly);
    changed.push(u.name);
    return;
  }
  var sameRoles = tojson(found.roles.sort(byName)) === tojson(roles);
  // A connection of its own, so that the check leaves this one's login alone.
  var samePassword = new Mongo(db.getMongo().host).getDB(u.database).auth(u.name, u.password) === 1;
  if (!sameRoles || !samePassword) {
    target.updateUser(u.name, { pwd: u.password, roles: roles }, primaryOnly);
    changed.push(u.name);
  }
});
print(tojson({ changed: changed }, "", true));
