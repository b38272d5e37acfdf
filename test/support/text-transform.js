// Jest transform for .sql/.sh files: the module's value is the file's text, as with esbuild's text loader.
module.exports = {
  process(sourceText) {
    return { code: `module.exports = ${JSON.stringify(sourceText)};` };
  },
};
