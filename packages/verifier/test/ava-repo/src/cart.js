'use strict';

/** The price of one cart line: unit price times quantity. */
function lineTotal(item) {
  return item.price.total * item.quantity;
}

/** The price of a cart, rounded to cents. */
function priceCart(cart) {
  const total = cart.items.map(lineTotal).reduce((sum, line) => sum + line, 0);
  return Math.round(total * 100) / 100;
}

module.exports = { lineTotal, priceCart };
