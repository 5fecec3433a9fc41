// The storefront: one product's live availability (EventSource), a hold with its countdown, and
// the order made from it. Uses only the public HTTP API.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  /** The stream's `retry:` (docs/API.md): how long the page waits before opening a refused stream again. */
  const RECONNECT_MS = 2000;
  /** `deadline`: the hold's `expires_at` on this browser's clock (see reserve). */
  const state = { productId: null, hold: null, deadline: 0, reserving: false, order: null, countdown: null, orderPoll: null };

  const MESSAGES = {
    insufficient_stock: (b) => `Sold out for that quantity: only ${b.available} left.`,
    hold_expired: () => 'Your hold has expired; reserve again.',
    hold_already_used: () => 'An order was already placed from this hold.',
    product_not_found: () => 'This product does not exist.',
    unavailable: () => 'The shop is busy right now; try again in a moment.',
  };

  function explain(status, body) {
    if (status === 429) return 'Too many requests; wait a moment and try again.';
    // BUYER_AUTH=jwt: the buyer routes need a buyer token, which this page has no way to get.
    if (status === 401) return 'Reserving needs a signed-in buyer, and this page cannot sign you in.';
    const known = body && MESSAGES[body.error];
    if (known) return known(body);
    return (body && body.message) || `Something went wrong (HTTP ${status}).`;
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let json = null;
    try {
      json = await res.json();
    } catch {
      // an empty or non-JSON answer
    }
    return { status: res.status, body: json };
  }

  function say(text) {
    $('message').textContent = text || '';
  }

  /** Reserve is usable with units left, no hold of the page's and no hold being asked for. */
  function updateReserve() {
    $('reserve').disabled = state.reserving || state.hold !== null || !(Number($('available').textContent) > 0);
  }

  function showAvailability(stock, available) {
    $('available').textContent = String(available);
    $('stock').textContent = String(stock);
    updateReserve();
  }

  function listen() {
    const source = new EventSource(`/api/products/${state.productId}/stream`);
    source.addEventListener('availability', (e) => {
      const data = JSON.parse(e.data);
      showAvailability(data.stock, data.available);
      $('live').textContent = 'live';
      if (state.order && state.order.status === 'pending') void refreshOrder();
    });
    source.onerror = () => {
      $('live').textContent = 'reconnecting…';
      // EventSource reconnects by itself after a network error, but gives up for good on an HTTP
      // error answer (a 503 while the database is down or the service stops, a 429): open it
      // again after the stream's own retry delay.
      if (source.readyState === EventSource.CLOSED) setTimeout(listen, RECONNECT_MS);
    };
  }

  function tick() {
    if (!state.hold) return;
    const left = state.deadline - Date.now();
    if (left > 0) {
      $('countdown').textContent = `Expires in ${(left / 1000).toFixed(1)} s`;
      return;
    }
    clearInterval(state.countdown);
    $('countdown').textContent = 'Expired.';
    $('place-order').disabled = true;
    state.hold = null;
    updateReserve();
  }

  async function reserve() {
    say('');
    state.reserving = true;
    updateReserve();
    const qty = Number($('qty').value);
    const sent = Date.now();
    const res = await api('POST', '/api/holds', { product_id: state.productId, qty });
    state.reserving = false;
    if (res.status !== 201) {
      say(explain(res.status, res.body));
      updateReserve();
      return;
    }
    state.hold = res.body;
    updateReserve();
    // The hold lives expires_at - created_at from its creation, which came after `sent`. Counting
    // that from `sent` on this clock ends the countdown at or before the real expiry whatever the
    // gap between this browser's clock and the service's (expires_at itself is the service's).
    state.deadline = sent + (Date.parse(res.body.expires_at) - Date.parse(res.body.created_at));
    $('order').hidden = true;
    $('hold').hidden = false;
    $('hold-id').textContent = `#${res.body.id}`;
    $('hold-qty').textContent = `${res.body.qty} unit${res.body.qty === 1 ? '' : 's'}`;
    $('place-order').disabled = false;
    clearInterval(state.countdown);
    state.countdown = setInterval(tick, 100);
    tick();
  }

  function showOrder(order) {
    state.order = order;
    $('order').hidden = false;
    $('order-id').textContent = `#${order.id}`;
    $('order-total').textContent = order.total;
    $('order-status').textContent = order.status;
    if (order.status !== 'pending') clearInterval(state.orderPoll);
  }

  async function refreshOrder() {
    if (!state.order) return;
    const res = await api('GET', `/api/orders/${state.order.id}`);
    if (res.status === 200) showOrder(res.body);
  }

  async function placeOrder() {
    if (!state.hold) return;
    say('');
    $('place-order').disabled = true;
    const res = await api('POST', '/api/orders', { hold_id: state.hold.id });
    if (res.status !== 201) {
      say(explain(res.status, res.body));
      if (res.status !== 410) $('place-order').disabled = false;
      return;
    }
    clearInterval(state.countdown);
    state.hold = null;
    $('hold').hidden = true;
    showOrder(res.body);
    clearInterval(state.orderPoll);
    state.orderPoll = setInterval(() => void refreshOrder(), 1000);
    showAvailability(Number($('stock').textContent), Number($('available').textContent));
  }

  /** The page shows no product: a heading and a sentence instead of "Loading…" and "connecting…". */
  function showNoProduct(heading, text) {
    $('name').textContent = heading;
    $('live').textContent = 'not connected';
    say(text);
  }

  async function start() {
    const asked = new URLSearchParams(location.search).get('product');
    const res = asked ? await api('GET', `/api/products/${encodeURIComponent(asked)}`) : await api('GET', '/api/products');
    if (res.status === 503 || res.status === 429) {
      // The database is down or the shop is busy: say so and ask again, as the stream would.
      say(explain(res.status, res.body));
      setTimeout(() => void start(), RECONNECT_MS);
      return;
    }
    // An id that is not an id (`?product=abc`, 400) names no product either.
    if (asked && (res.status === 404 || res.status === 400)) return showNoProduct('No such product', MESSAGES.product_not_found());
    if (res.status !== 200) return showNoProduct('Flash sale', explain(res.status, res.body));
    const product = asked ? res.body : res.body.data[0];
    if (!product) return showNoProduct('Flash sale', 'Nothing is on sale right now.');
    say('');
    state.productId = product.id;
    $('name').textContent = product.name;
    $('price').textContent = `${product.price}`;
    showAvailability(product.stock, product.available);
    $('reserve').addEventListener('click', () => void reserve());
    $('place-order').addEventListener('click', () => void placeOrder());
    listen();
  }

  for (let q = 1; q <= 10; q++) $('qty').add(new Option(String(q), String(q)));
  void start();
})();
