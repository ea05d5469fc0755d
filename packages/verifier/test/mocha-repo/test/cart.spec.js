'use strict';
const assert = require('node:assert/strict');
const { priceCart } = require('../src/cart.js');

describe('priceCart', () => {
  it('adds up its lines', () => {
    assert.equal(priceCart({ items: [{ price: { total: 2.5 }, quantity: 2 }, { price: { total: 1 }, quantity: 1 }] }), 6);
  });

  it('prices an empty cart at zero', () => {
    assert.equal(priceCart({ items: [] }), 0);
  });

  it('rounds half a cent up', () => {
    // Known to fail: binary floating point makes 1.005 slightly less than it looks.
    assert.equal(priceCart({ items: [{ price: { total: 1.005 }, quantity: 1 }] }), 1.01);
  });

  it.skip('applies a voucher', () => {});
});
