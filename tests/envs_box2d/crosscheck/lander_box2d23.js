// Cross-check of the LunarLander heuristic statistics on an independent Box2D 2.3.2 engine.
//
// Gymnasium's reference (tests/data/box2d/stats.json) ran on pybox2d 2.3.10; Keel runs on
// Debian's Box2D 2.4.1 with 2.3's revolute joint solver. This script re-expresses Gymnasium's
// LunarLander-v3 (world reused across episodes, side-engine particles kept, as Gymnasium does with
// render_mode=None) and its demo heuristic on @cocos/box2d 1.0.2, a line-by-line TypeScript port of
// Box2D 2.3.2 (its broad-phase pair sort, edge-polygon collider and 3x3 revolute limit solve;
// double precision). It prints one line per episode: length, return, terminated.
//
//   cd /tmp && npm pack @cocos/box2d@1.0.2 && tar xzf cocos-box2d-1.0.2.tgz   # -> /tmp/package
//   BOX2D23=/tmp/package node lander_box2d23.js CONTINUOUS EPISODES PARTICLES REUSE SEED
//   e.g. node lander_box2d23.js 0 300 1 1 1 | awk '{t+=$4} END{print t/NR}'
//
// Figures from it are in envs/box2d/README.md (fidelity status). Not run by ctest.
const b2 = require((process.env.BOX2D23 || '/tmp/package') + '/index.js');
const FPS = 50, SCALE = 30, MAIN = 13, SIDE = 0.6, INIT = 1000;
const LEG_AWAY = 20, LEG_DOWN = 18, LEG_W = 2, LEG_H = 8, SPRING = 40, SEH = 14, SEA = 12;
const VW = 600, VH = 400, W = VW / SCALE, H = VH / SCALE, CHUNKS = 11;
const POLY = [[-14, 17], [-17, 0], [-17, -10], [17, -10], [17, 0], [14, 17]];
function mulberry(a) { return function () { a |= 0; a = a + 0x6D2B79F5 | 0; let t = Math.imul(a ^ a >>> 15, 1 | a); t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296; }; }
class Lander {
  constructor(continuous, particles, reuse) {
    this.continuous = continuous; this.particlesOn = particles; this.reuse = reuse;
    this.world = new b2.World(new b2.Vec2(0, -10)); this.moon = null; this.particles = [];
  }
  destroy() {
    if (!this.moon) return;
    this.world.SetContactListener(null);
    for (const p of this.particles) this.world.DestroyBody(p); this.particles = [];
    this.world.DestroyBody(this.moon); this.moon = null;
    this.world.DestroyBody(this.lander); this.world.DestroyBody(this.legs[0]); this.world.DestroyBody(this.legs[1]);
  }
  reset(seed) {
    this.rng = mulberry(seed); const U = (a, b) => a + (b - a) * this.rng();
    if (this.reuse) this.destroy(); else { this.world = new b2.World(new b2.Vec2(0, -10)); this.moon = null; this.particles = []; }
    const env = this;
    const L = new b2.ContactListener();
    L.BeginContact = function (c) { const A = c.GetFixtureA().GetBody(), B = c.GetFixtureB().GetBody();
      if (A === env.lander || B === env.lander) env.game_over = true;
      for (let i = 0; i < 2; ++i) if (env.legs[i] === A || env.legs[i] === B) env.gc[i] = true; };
    L.EndContact = function (c) { const A = c.GetFixtureA().GetBody(), B = c.GetFixtureB().GetBody();
      for (let i = 0; i < 2; ++i) if (env.legs[i] === A || env.legs[i] === B) env.gc[i] = false; };
    this.world.SetContactListener(L);
    this.game_over = false; this.prev = null; this.gc = [false, false];
    const height = []; for (let i = 0; i <= CHUNKS; ++i) height.push(U(0, H / 2));
    const cx = []; for (let i = 0; i < CHUNKS; ++i) cx.push(W / (CHUNKS - 1) * i);
    this.helipad_y = H / 4;
    for (let k = -2; k <= 2; ++k) height[Math.floor(CHUNKS / 2) + k] = this.helipad_y;
    const sy = []; for (let i = 0; i < CHUNKS; ++i) sy.push(0.33 * (height[(i - 1 + CHUNKS + 1) % (CHUNKS + 1)] + height[i] + height[i + 1]));
    this.moon = this.world.CreateBody({ type: b2.BodyType.b2_staticBody });
    { const e = new b2.EdgeShape(); e.Set(new b2.Vec2(0, 0), new b2.Vec2(W, 0)); this.moon.CreateFixture({ shape: e }); }
    for (let i = 0; i < CHUNKS - 1; ++i) { const e = new b2.EdgeShape(); e.Set(new b2.Vec2(cx[i], sy[i]), new b2.Vec2(cx[i + 1], sy[i + 1]));
      this.moon.CreateFixture({ shape: e, density: 0, friction: 0.1 }); }
    const iy = VH / SCALE;
    this.lander = this.world.CreateBody({ type: b2.BodyType.b2_dynamicBody, position: new b2.Vec2(VW / SCALE / 2, iy), angle: 0 });
    const ps = new b2.PolygonShape(); ps.Set(POLY.map(([x, y]) => new b2.Vec2(x / SCALE, y / SCALE)));
    this.lander.CreateFixture({ shape: ps, density: 5, friction: 0.1, filter: { categoryBits: 0x10, maskBits: 1, groupIndex: 0 }, restitution: 0 });
    this.lander.ApplyForceToCenter(new b2.Vec2(U(-INIT, INIT), U(-INIT, INIT)), true);
    this.legs = [];
    for (const i of [-1, 1]) {
      const leg = this.world.CreateBody({ type: b2.BodyType.b2_dynamicBody, position: new b2.Vec2(VW / SCALE / 2 - i * LEG_AWAY / SCALE, iy), angle: i * 0.05 });
      const bs = new b2.PolygonShape(); bs.SetAsBox(LEG_W / SCALE, LEG_H / SCALE);
      leg.CreateFixture({ shape: bs, density: 1, restitution: 0, filter: { categoryBits: 0x20, maskBits: 1, groupIndex: 0 } });
      const rjd = new b2.RevoluteJointDef(); rjd.bodyA = this.lander; rjd.bodyB = leg;
      rjd.referenceAngle = leg.GetAngle() - this.lander.GetAngle();
      rjd.localAnchorA.Set(0, 0); rjd.localAnchorB.Set(i * LEG_AWAY / SCALE, LEG_DOWN / SCALE);
      rjd.enableMotor = true; rjd.enableLimit = true; rjd.maxMotorTorque = SPRING; rjd.motorSpeed = 0.3 * i;
      if (i === -1) { rjd.lowerAngle = 0.9 - 0.5; rjd.upperAngle = 0.9; } else { rjd.lowerAngle = -0.9; rjd.upperAngle = -0.9 + 0.5; }
      this.world.CreateJoint(rjd); this.legs.push(leg);
    }
    return this.step(this.continuous ? [0, 0] : 0)[0];
  }
  particle(mass, x, y) {
    const p = this.world.CreateBody({ type: b2.BodyType.b2_dynamicBody, position: new b2.Vec2(x, y), angle: 0 });
    const c = new b2.CircleShape(2 / SCALE); p.CreateFixture({ shape: c, density: mass, friction: 0.1, filter: { categoryBits: 0x100, maskBits: 1, groupIndex: 0 }, restitution: 0.3 });
    this.particles.push(p); return p;
  }
  step(action) {
    const U = (a, b) => a + (b - a) * this.rng();
    const ang = this.lander.GetAngle(); const tip = [Math.sin(ang), Math.cos(ang)], side = [-tip[1], tip[0]];
    const d = [U(-1, 1) / SCALE, U(-1, 1) / SCALE];
    let m = 0;
    if ((this.continuous && action[0] > 0) || (!this.continuous && action === 2)) {
      m = this.continuous ? (Math.min(Math.max(action[0], 0), 1) + 1) * 0.5 : 1;
      const ox = tip[0] * (4 / SCALE + 2 * d[0]) + side[0] * d[1], oy = -tip[1] * (4 / SCALE + 2 * d[0]) - side[1] * d[1];
      const p = this.lander.GetPosition(); const ip = new b2.Vec2(p.x + ox, p.y + oy);
      this.lander.ApplyLinearImpulse(new b2.Vec2(-ox * MAIN * m, -oy * MAIN * m), ip, true);
    }
    let s = 0;
    if ((this.continuous && Math.abs(action[1]) > 0.5) || (!this.continuous && (action === 1 || action === 3))) {
      let dir; if (this.continuous) { dir = Math.sign(action[1]); s = Math.min(Math.max(Math.abs(action[1]), 0.5), 1); } else { dir = action - 2; s = 1; }
      const ox = tip[0] * d[0] + side[0] * (3 * d[1] + dir * SEA / SCALE), oy = -tip[1] * d[0] - side[1] * (3 * d[1] + dir * SEA / SCALE);
      const p = this.lander.GetPosition(); const ip = new b2.Vec2(p.x + ox - tip[0] * 17 / SCALE, p.y + oy + tip[1] * SEH / SCALE);
      if (this.particlesOn) { const pp = this.particle(0.7, ip.x, ip.y); pp.ApplyLinearImpulse(new b2.Vec2(ox * SIDE * s, oy * SIDE * s), ip, true); }
      this.lander.ApplyLinearImpulse(new b2.Vec2(-ox * SIDE * s, -oy * SIDE * s), ip, true);
    }
    this.world.Step(1 / FPS, 6 * 30, 2 * 30);
    const pos = this.lander.GetPosition(), vel = this.lander.GetLinearVelocity();
    const st = [(pos.x - VW / SCALE / 2) / (VW / SCALE / 2), (pos.y - (this.helipad_y + LEG_DOWN / SCALE)) / (VH / SCALE / 2),
      vel.x * (VW / SCALE / 2) / FPS, vel.y * (VH / SCALE / 2) / FPS, this.lander.GetAngle(), 20 * this.lander.GetAngularVelocity() / FPS,
      this.gc[0] ? 1 : 0, this.gc[1] ? 1 : 0];
    const sh = -100 * Math.hypot(st[0], st[1]) - 100 * Math.hypot(st[2], st[3]) - 100 * Math.abs(st[4]) + 10 * st[6] + 10 * st[7];
    let r = this.prev === null ? 0 : sh - this.prev; this.prev = sh; r -= m * 0.3; r -= s * 0.03;
    let term = false;
    if (this.game_over || Math.abs(st[0]) >= 1) { term = true; r = -100; }
    if (!this.lander.IsAwake()) { term = true; r = 100; }
    return [Float32Array.from(st), r, term];
  }
}
function heuristic(cont, s) {
  let at = s[0] * 0.5 + s[2] * 1.0; at = Math.max(-0.4, Math.min(0.4, at));
  const ht = 0.55 * Math.abs(s[0]);
  let a = (at - s[4]) * 0.5 - s[5] * 1.0, h = (ht - s[1]) * 0.5 - s[3] * 0.5;
  if (s[6] || s[7]) { a = 0; h = -s[3] * 0.5; }
  if (cont) return [Math.max(-1, Math.min(1, h * 20 - 1)), Math.max(-1, Math.min(1, -a * 20))];
  if (h > Math.abs(a) && h > 0.05) return 2; if (a < -0.05) return 3; if (a > 0.05) return 1; return 0;
}
const [cont, n, particles, reuse, seed0] = process.argv.slice(2).map(Number);
const env = new Lander(!!cont, !!particles, !!reuse);
for (let ep = 0; ep < n; ++ep) {
  let s = env.reset(seed0 + ep * 7919), R = 0, t = 0, term = false;
  while (t < 1000) { const [o, r, d] = env.step(heuristic(!!cont, s)); s = o; R += r; ++t; if (d) { term = true; break; } }
  console.log(`EP ${ep} t ${t} R ${R.toFixed(1)} term ${term ? 1 : 0} x ${s[0].toFixed(3)}`);
}
