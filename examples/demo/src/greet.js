// A tiny module for the demo melodies to lint, test and review.
function greet(name) {
  return `Hello, ${name}!`;
}
module.exports = { greet };
