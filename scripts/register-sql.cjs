// Lets the tsx command-line entries `import x from '../sql/x.sql'` the same way the esbuild-bundled
// Lambdas do (esbuild's text loader): the module's value is the file's text.
const fs = require('node:fs');
require.extensions['.sql'] = (module, filename) => {
  module.exports = fs.readFileSync(filename, 'utf8');
};
