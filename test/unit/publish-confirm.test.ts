import { PublishConfirm } from '../../runtime/publish-confirm';

test('what was written since the last completed round trip is what a dropped link may have lost', () => {
  const c = new PublishConfirm();
  c.noteSent('results');
  c.noteSent('results');
  const done = c.begin(); // covers the two
  c.noteSent('results');
  c.noteSent('statuses');
  done();
  expect(c.disconnected()).toEqual({ results: 1, statuses: 1 });
  expect(c.disconnected()).toEqual({ results: 0, statuses: 0 }); // counted once
});

test('a round trip started on an earlier link confirms nothing written since', () => {
  const c = new PublishConfirm();
  c.noteSent('results');
  const stale = c.begin();
  expect(c.disconnected()).toEqual({ results: 1, statuses: 0 });
  c.noteSent('results'); // written on the new link
  stale(); // the old flush settles late
  expect(c.disconnected()).toEqual({ results: 1, statuses: 0 });
});
