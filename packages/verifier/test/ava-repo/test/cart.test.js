'use strict';
const test = require('ava');
const { priceCart } = require('../src/cart.js');

test('priceCart adds up its lines', (t) => {
  t.is(priceCart({ items: [{ price: { total: 2.5 }, quantity: 2 }, { price: { total: 1 }, quantity: 1 }] }), 6);
});

test('priceCart prices an empty cart at zero', (t) => {
  t.is(priceCart({ items: [] }), 0);
});

test('priceCart rounds half a cent up', (t) => {
  // Known to fail: binary floating point makes 1.005 slightly less than it looks.
  t.is(priceCart({ items: [{ price: { total: 1.005 }, quantity: 1 }] }), 1.01);
});
