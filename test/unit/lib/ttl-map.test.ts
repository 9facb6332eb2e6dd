import fc from 'fast-check'
import { createTtlMap, type EvictReason, type TtlMapOptions } from '../../../lib/ttl-map'

/** A map on a clock the test moves, recording what onEvict was told. */
const given = (options: Partial<TtlMapOptions<string, string>> = {}, start = 1_000) => {
  let clock = start
  const evicted: Array<[string, string, EvictReason]> = []
  const map = createTtlMap<string, string>({
    max: 10,
    ttlMs: 100,
    now: () => clock,
    onEvict: (value, key, reason) => evicted.push([key, value, reason]),
    ...options,
  })
  return { map, evicted, advance: (ms: number) => (clock += ms), at: () => clock }
}

describe('the bounded expiring map', () => {
  describe('its bound', () => {
    it('given a full map, when one more is set, then the oldest set goes and the rest stay', () => {
      const { map, evicted } = given({ max: 2 })
      map.set('a', 'A')
      map.set('b', 'B')
      map.set('c', 'C')
      expect([map.get('a'), map.get('b'), map.get('c')]).toEqual([undefined, 'B', 'C'])
      expect(map.size()).toBe(2)
      expect(evicted).toEqual([['a', 'A', 'bound']])
    })

    it('given an entry read often, when the map overflows, then it still goes first if set first', () => {
      const { map } = given({ max: 2 })
      map.set('a', 'A')
      map.set('b', 'B')
      for (let i = 0; i < 5; i++) expect(map.get('a')).toBe('A')
      map.set('c', 'C')
      expect([map.get('a'), map.get('b')]).toEqual([undefined, 'B'])
    })

    it('given an entry set again, when the map overflows, then it counts as the newest', () => {
      const { map } = given({ max: 2 })
      map.set('a', 'A')
      map.set('b', 'B')
      map.set('a', 'A2')
      map.set('c', 'C')
      expect([map.get('a'), map.get('b'), map.get('c')]).toEqual(['A2', undefined, 'C'])
    })

    it('given max 0, when a value is set, then nothing is kept and onEvict gets the value at once', () => {
      const { map, evicted } = given({ max: 0 })
      map.set('a', 'A')
      expect([map.get('a'), map.size()]).toEqual([undefined, 0])
      expect(evicted).toEqual([['a', 'A', 'bound']])
    })
  })

  describe('expiry on the injected clock', () => {
    it('given an entry, when its age reaches the ttl, then it is gone, and it was there 1 ms before', () => {
      const { map, evicted, advance } = given()
      map.set('a', 'A')
      advance(99)
      expect(map.get('a')).toBe('A')
      advance(1)
      expect(map.get('a')).toBeUndefined()
      expect(evicted).toEqual([['a', 'A', 'expired']])
      expect(map.size()).toBe(0)
    })

    it('given a read just before expiry, when the ttl is reached, then the read did not renew it', () => {
      const { map, advance } = given()
      map.set('a', 'A')
      advance(99)
      map.get('a')
      advance(1)
      expect(map.get('a')).toBeUndefined()
    })

    it('given entries with their own ttl, then each goes at its own time', () => {
      const { map, advance } = given()
      map.set('short', 'S', 10)
      map.set('default', 'D')
      map.set('long', 'L', 1_000)
      advance(10)
      expect([map.get('short'), map.get('default'), map.get('long')]).toEqual([undefined, 'D', 'L'])
      advance(90)
      expect([map.get('default'), map.get('long')]).toEqual([undefined, 'L'])
      advance(899)
      expect(map.get('long')).toBe('L')
      advance(1)
      expect(map.get('long')).toBeUndefined()
    })

    it('given an entry set until a time, then it is there before that time and gone from it on', () => {
      const { map, advance, at } = given()
      map.setUntil('a', 'A', at() + 5_000)
      advance(4_999)
      expect(map.get('a')).toBe('A')
      advance(1)
      expect(map.get('a')).toBeUndefined()
    })

    it('given a ttl of 0 or less, or a time already past, then nothing is kept and onEvict gets the value', () => {
      const { map, evicted, at } = given()
      map.set('zero', 'Z', 0)
      map.set('negative', 'N', -5)
      map.setUntil('past', 'P', at())
      expect([map.get('zero'), map.get('negative'), map.get('past'), map.size()]).toEqual([undefined, undefined, undefined, 0])
      expect(evicted.map(([key, , reason]) => [key, reason])).toEqual([
        ['zero', 'expired'],
        ['negative', 'expired'],
        ['past', 'expired'],
      ])
    })

    // lru-cache takes a start of 0 for "never expires": no reading of the clock may come out as that.
    it.each([-1, 0, 1, 2])('given a clock that reads %d when the entry is set, then it still expires', (start) => {
      const { map, advance } = given({}, 0)
      advance(start)
      map.set('a', 'A')
      advance(100)
      expect(map.get('a')).toBeUndefined()
    })

    it('given any clock in whole ms and any ttl, then an entry is there exactly while its age is below the ttl', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: -1e12, max: 1e13 }),
          fc.nat(1e6),
          fc.integer({ min: 1, max: 1e7 }),
          fc.nat(2e7),
          (start, delay, ttl, age) => {
            const { map, advance } = given({ ttlMs: ttl }, start)
            advance(delay)
            map.set('a', 'A')
            advance(age)
            expect(map.get('a')).toBe(age < ttl ? 'A' : undefined)
          },
        ),
      )
    })

    it('given a clock in fractions of a ms, then an entry is never there once its age reaches its ttl, nor gone 1 ms before', () => {
      // Quarters of a ms, which floating point holds exactly.
      const quarters = (max: number) => fc.integer({ min: 1, max: max * 4 }).map((n) => n / 4)
      fc.assert(
        fc.property(quarters(1e6), quarters(2e6), (ttl, age) => {
          const { map, advance } = given({ ttlMs: ttl }, 0.25)
          map.set('a', 'A')
          advance(age)
          if (age >= ttl) expect(map.get('a')).toBeUndefined()
          else if (age <= ttl - 1) expect(map.get('a')).toBe('A')
        }),
      )
    })
  })

  describe('onEvict', () => {
    it('runs for every way out: bound, expiry on look-up, purge, delete, clear and replacement', () => {
      const { map, evicted, advance } = given({ max: 3 })
      map.set('pushed', '1')
      map.set('looked-up', '2', 10)
      map.set('purged', '3', 10)
      map.set('new', '4') // pushes out 'pushed'
      advance(10)
      expect(map.get('looked-up')).toBeUndefined()
      map.purgeExpired()
      map.set('deleted', '5')
      expect(map.delete('deleted')).toBe(true)
      map.set('replaced', '6')
      map.set('replaced', '7')
      map.clear()
      expect(evicted).toEqual([
        ['pushed', '1', 'bound'],
        ['looked-up', '2', 'expired'],
        ['purged', '3', 'expired'],
        ['deleted', '5', 'deleted'],
        ['replaced', '6', 'replaced'],
        ['new', '4', 'deleted'],
        ['replaced', '7', 'deleted'],
      ])
      expect(map.size()).toBe(0)
    })

    it('runs once per value, and not when the same value is set again', () => {
      const { map, evicted } = given()
      const value = 'same'
      map.set('a', value)
      map.set('a', value)
      expect(map.delete('a')).toBe(true)
      expect(map.delete('a')).toBe(false)
      map.clear()
      expect(evicted).toEqual([['a', 'same', 'deleted']])
    })

    it('runs while the value is still reachable, so it can overwrite a buffer before the map lets go', () => {
      const buffers = createTtlMap<string, Buffer>({ max: 1, ttlMs: 100, onEvict: (buffer) => buffer.fill(0) })
      const first = Buffer.from('secret')
      buffers.set('a', first)
      buffers.set('b', Buffer.from('other'))
      expect(first.equals(Buffer.alloc(6))).toBe(true)
    })
  })

  describe('purgeExpired', () => {
    it('given expired entries nobody looks up, when purged, then they are dropped and live ones kept', () => {
      const { map, advance } = given()
      map.set('old', 'O')
      advance(50)
      map.set('young', 'Y')
      advance(50)
      expect(map.size()).toBe(2)
      map.purgeExpired()
      expect(map.size()).toBe(1)
      expect(map.get('young')).toBe('Y')
    })
  })

  it('refuses a bound that is not a whole number, or a ttl that is not positive', () => {
    expect(() => createTtlMap({ max: 1.5, ttlMs: 1 })).toThrow(RangeError)
    expect(() => createTtlMap({ max: -1, ttlMs: 1 })).toThrow(RangeError)
    expect(() => createTtlMap({ max: 1, ttlMs: 0 })).toThrow(RangeError)
    expect(() => createTtlMap({ max: 1, ttlMs: Number.NaN })).toThrow(RangeError)
  })
})
