// Run against the primary, after `var members = [...]` (every "address:port"
// of the set): adds those missing from rs.conf(), prints the added ones.
var known = rs.conf().members.map(function (m) { return m.host; });
var added = members.filter(function (h) { return known.indexOf(h) < 0; });
added.forEach(function (h) {
  var result = rs.add(h);
  if (result.ok !== 1) {
    throw "rs.add('" + h + "') failed: " + tojson(result);
  }
});
print(tojson({ added: added }, "", true));
