// Cross-check of the LunarLander statistics on Box2D 2.3.1 itself: Erin Catto's C++ source, in
// float, as pybox2d (Gymnasium's reference engine, 2.3.10) compiles it.
//
// The npm package box2d.js 1.0.4 ships that source (Box2D_v2.3.1/). This file re-expresses
// Gymnasium 1.x's LunarLander-v3 (a fresh world per reset, no particles: they collide only with
// the ground and, added as a trial, changed no episode; pybox2d's referenceAngle default) and its
// demo heuristic on it, and prints one summary line. Not built by CMake and not run by ctest (it
// needs that source):
//
//   cd /tmp && npm pack box2d.js@1.0.4 && tar xzf box2d.js-1.0.4.tgz   # -> /tmp/package
//   mkdir -p /tmp/b23 && cd /tmp/b23
//   for f in $(find /tmp/package/Box2D_v2.3.1/Box2D -name '*.cpp'); do
//     g++ -O2 -c -I/tmp/package/Box2D_v2.3.1 "$f" -o "$(basename "$f" .cpp).o"; done
//   ar rcs libbox2d231.a *.o
//   g++ -O2 -std=c++17 -I/tmp/package/Box2D_v2.3.1 \
//     $KEEL/tests/envs_box2d/crosscheck/lander_box2d231.cpp libbox2d231.a -o lander231
//   ./lander231 CONTINUOUS EPISODES RANDOM SEED        # e.g. ./lander231 0 1000 0 2
//
// Figures from it are in envs/box2d/README.md (fidelity status).
#include <Box2D/Box2D.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

static const double FPS = 50, SCALE = 30.0, MAIN_ENGINE_POWER = 13.0, SIDE_ENGINE_POWER = 0.6,
                    INITIAL_RANDOM = 1000.0;
static const double LEG_AWAY = 20, LEG_DOWN = 18, LEG_W = 2, LEG_H = 8, LEG_SPRING_TORQUE = 40;
static const double SIDE_ENGINE_HEIGHT = 14, SIDE_ENGINE_AWAY = 12, MAIN_ENGINE_Y_LOCATION = 4;
static const double VIEWPORT_W = 600, VIEWPORT_H = 400;

struct Env;
struct Detector : b2ContactListener {
  Env* env;
  void BeginContact(b2Contact* c) override;
  void EndContact(b2Contact* c) override;
};

struct Env {
  bool continuous;
  std::mt19937_64 rng;
  b2World* world = nullptr;
  b2Body *moon = nullptr, *lander = nullptr, *legs[2] = {nullptr, nullptr};
  bool ground_contact[2] = {false, false};
  bool game_over = false;
  double helipad_y = 0, prev_shaping = 0;
  bool have_prev = false;
  Detector det;
  double uni(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }

  void destroy() {
    if (!world) return;
    delete world;
    world = nullptr;
  }

  std::vector<double> reset() {
    destroy();
    world = new b2World(b2Vec2(0, -10));
    det.env = this;
    world->SetContactListener(&det);
    game_over = false;
    have_prev = false;
    const double W = VIEWPORT_W / SCALE, H = VIEWPORT_H / SCALE;
    const int CHUNKS = 11;
    double height[CHUNKS + 1];
    for (int i = 0; i < CHUNKS + 1; ++i) height[i] = uni(0, H / 2);
    double chunk_x[CHUNKS];
    for (int i = 0; i < CHUNKS; ++i) chunk_x[i] = W / (CHUNKS - 1) * i;
    helipad_y = H / 4;
    for (int k = -2; k <= 2; ++k) height[CHUNKS / 2 + k] = helipad_y;
    double smooth_y[CHUNKS];
    for (int i = 0; i < CHUNKS; ++i) {
      const double hm1 = i == 0 ? height[CHUNKS] : height[i - 1];  // Python's height[-1]
      smooth_y[i] = 0.33 * (hm1 + height[i] + height[i + 1]);
    }
    b2BodyDef bd;
    bd.type = b2_staticBody;
    moon = world->CreateBody(&bd);
    {
      b2EdgeShape e;
      e.Set(b2Vec2(0, 0), b2Vec2((float)W, 0));
      b2FixtureDef fd;
      fd.shape = &e;  // pybox2d's shapes= : default fixture (friction 0.2, density 0)
      moon->CreateFixture(&fd);
    }
    for (int i = 0; i < CHUNKS - 1; ++i) {
      b2EdgeShape e;
      e.Set(b2Vec2((float)chunk_x[i], (float)smooth_y[i]),
            b2Vec2((float)chunk_x[i + 1], (float)smooth_y[i + 1]));
      b2FixtureDef fd;
      fd.shape = &e;
      fd.density = 0;
      fd.friction = 0.1f;
      moon->CreateFixture(&fd);
    }
    const double initial_y = VIEWPORT_H / SCALE, initial_x = VIEWPORT_W / SCALE / 2;
    {
      b2BodyDef ld;
      ld.type = b2_dynamicBody;
      ld.position.Set((float)initial_x, (float)initial_y);
      ld.angle = 0;
      lander = world->CreateBody(&ld);
      const int P[6][2] = {{-14, 17}, {-17, 0}, {-17, -10}, {17, -10}, {17, 0}, {14, 17}};
      b2Vec2 v[6];
      for (int i = 0; i < 6; ++i) v[i].Set((float)(P[i][0] / SCALE), (float)(P[i][1] / SCALE));
      b2PolygonShape poly;
      poly.Set(v, 6);
      b2FixtureDef fd;
      fd.shape = &poly;
      fd.density = 5.0f;
      fd.friction = 0.1f;
      fd.filter.categoryBits = 0x0010;
      fd.filter.maskBits = 0x001;
      fd.restitution = 0.0f;
      lander->CreateFixture(&fd);
    }
    lander->ApplyForceToCenter(b2Vec2((float)uni(-INITIAL_RANDOM, INITIAL_RANDOM),
                                      (float)uni(-INITIAL_RANDOM, INITIAL_RANDOM)),
                               true);
    int k = 0;
    for (int i : {-1, +1}) {
      b2BodyDef bd2;
      bd2.type = b2_dynamicBody;
      bd2.position.Set((float)(initial_x - i * LEG_AWAY / SCALE), (float)initial_y);
      bd2.angle = (float)(i * 0.05);
      b2Body* leg = world->CreateBody(&bd2);
      b2PolygonShape box;
      box.SetAsBox((float)(LEG_W / SCALE), (float)(LEG_H / SCALE));
      b2FixtureDef fd;
      fd.shape = &box;
      fd.density = 1.0f;
      fd.restitution = 0.0f;
      fd.filter.categoryBits = 0x0020;
      fd.filter.maskBits = 0x001;
      leg->CreateFixture(&fd);
      ground_contact[k] = false;
      b2RevoluteJointDef rjd;
      rjd.bodyA = lander;
      rjd.bodyB = leg;
      rjd.localAnchorA.Set(0, 0);
      rjd.localAnchorB.Set((float)(i * LEG_AWAY / SCALE), (float)(LEG_DOWN / SCALE));
      rjd.referenceAngle = leg->GetAngle() - lander->GetAngle();  // pybox2d's default
      rjd.enableMotor = true;
      rjd.enableLimit = true;
      rjd.maxMotorTorque = (float)LEG_SPRING_TORQUE;
      rjd.motorSpeed = (float)(0.3 * i);
      if (i == -1) {
        rjd.lowerAngle = (float)(0.9 - 0.5);
        rjd.upperAngle = 0.9f;
      } else {
        rjd.lowerAngle = -0.9f;
        rjd.upperAngle = (float)(-0.9 + 0.5);
      }
      world->CreateJoint(&rjd);
      legs[k++] = leg;
    }
    double r;
    bool term;
    return step(continuous ? std::vector<double>{0, 0} : std::vector<double>{0}, r, term);
  }

  std::vector<double> step(const std::vector<double>& a, double& reward, bool& terminated) {
    const double tip0 = std::sin(lander->GetAngle()), tip1 = std::cos(lander->GetAngle());
    const double side0 = -tip1, side1 = tip0;
    double disp[2];
    for (double& d : disp) d = uni(-1.0, 1.0) / SCALE;
    const int da = continuous ? 0 : (int)a[0];
    double m_power = 0;
    if ((continuous && a[0] > 0) || (!continuous && da == 2)) {
      m_power = continuous ? (std::clamp(a[0], 0.0, 1.0) + 1.0) * 0.5 : 1.0;
      const double ox = tip0 * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * disp[0]) + side0 * disp[1];
      const double oy = -tip1 * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * disp[0]) - side1 * disp[1];
      const b2Vec2 p = lander->GetPosition();
      const double px = p.x + ox, py = p.y + oy;
      lander->ApplyLinearImpulse(b2Vec2((float)(-ox * MAIN_ENGINE_POWER * m_power),
                                        (float)(-oy * MAIN_ENGINE_POWER * m_power)),
                                 b2Vec2((float)px, (float)py), true);
    }
    double s_power = 0;
    if ((continuous && std::abs(a[1]) > 0.5) || (!continuous && (da == 1 || da == 3))) {
      double direction;
      if (continuous) {
        direction = a[1] > 0 ? 1 : (a[1] < 0 ? -1 : 0);
        s_power = std::clamp(std::abs(a[1]), 0.5, 1.0);
      } else {
        direction = da - 2;
        s_power = 1.0;
      }
      const double ox =
          tip0 * disp[0] + side0 * (3 * disp[1] + direction * SIDE_ENGINE_AWAY / SCALE);
      const double oy =
          -tip1 * disp[0] - side1 * (3 * disp[1] + direction * SIDE_ENGINE_AWAY / SCALE);
      const b2Vec2 p = lander->GetPosition();
      const double px = p.x + ox - tip0 * 17 / SCALE;
      const double py = p.y + oy + tip1 * SIDE_ENGINE_HEIGHT / SCALE;
      lander->ApplyLinearImpulse(b2Vec2((float)(-ox * SIDE_ENGINE_POWER * s_power),
                                        (float)(-oy * SIDE_ENGINE_POWER * s_power)),
                                 b2Vec2((float)px, (float)py), true);
    }
    world->Step((float)(1.0 / FPS), 6 * 30, 2 * 30);
    const b2Vec2 pos = lander->GetPosition(), vel = lander->GetLinearVelocity();
    std::vector<double> s = {(pos.x - VIEWPORT_W / SCALE / 2) / (VIEWPORT_W / SCALE / 2),
                             (pos.y - (helipad_y + LEG_DOWN / SCALE)) / (VIEWPORT_H / SCALE / 2),
                             vel.x * (VIEWPORT_W / SCALE / 2) / FPS,
                             vel.y * (VIEWPORT_H / SCALE / 2) / FPS,
                             lander->GetAngle(),
                             20.0 * lander->GetAngularVelocity() / FPS,
                             ground_contact[0] ? 1.0 : 0.0,
                             ground_contact[1] ? 1.0 : 0.0};
    for (double& x : s) x = (float)x;  // the observation is float32
    reward = 0;
    const double shaping = -100 * std::sqrt(s[0] * s[0] + s[1] * s[1]) -
                           100 * std::sqrt(s[2] * s[2] + s[3] * s[3]) - 100 * std::abs(s[4]) +
                           10 * s[6] + 10 * s[7];
    if (have_prev) reward = shaping - prev_shaping;
    prev_shaping = shaping;
    have_prev = true;
    reward -= m_power * 0.30;
    reward -= s_power * 0.03;
    terminated = false;
    if (game_over || std::abs(s[0]) >= 1.0) {
      terminated = true;
      reward = -100;
    }
    if (!lander->IsAwake()) {
      terminated = true;
      reward = +100;
    }
    return s;
  }
};

void Detector::BeginContact(b2Contact* c) {
  b2Body *A = c->GetFixtureA()->GetBody(), *B = c->GetFixtureB()->GetBody();
  if (env->lander == A || env->lander == B) env->game_over = true;
  for (int i = 0; i < 2; ++i)
    if (env->legs[i] == A || env->legs[i] == B) env->ground_contact[i] = true;
}
void Detector::EndContact(b2Contact* c) {
  b2Body *A = c->GetFixtureA()->GetBody(), *B = c->GetFixtureB()->GetBody();
  for (int i = 0; i < 2; ++i)
    if (env->legs[i] == A || env->legs[i] == B) env->ground_contact[i] = false;
}

std::vector<double> heuristic(bool continuous, const std::vector<double>& s) {
  double angle_targ = s[0] * 0.5 + s[2] * 1.0;
  angle_targ = std::clamp(angle_targ, -0.4, 0.4);
  const double hover_targ = 0.55 * std::abs(s[0]);
  double angle_push = (angle_targ - s[4]) * 0.5 - s[5] * 1.0;
  double hover_push = (hover_targ - s[1]) * 0.5 - s[3] * 0.5;
  if (s[6] != 0 || s[7] != 0) {
    angle_push = 0;
    hover_push = -s[3] * 0.5;
  }
  if (continuous)
    return {std::clamp(hover_push * 20 - 1, -1.0, 1.0), std::clamp(-angle_push * 20, -1.0, 1.0)};
  int a = 0;
  if (hover_push > std::abs(angle_push) && hover_push > 0.05)
    a = 2;
  else if (angle_push < -0.05)
    a = 3;
  else if (angle_push > +0.05)
    a = 1;
  return {(double)a};
}

int main(int argc, char** argv) {
  const bool continuous = argc > 1 && std::atoi(argv[1]) != 0;
  const int episodes = argc > 2 ? std::atoi(argv[2]) : 300;
  const bool random = argc > 3 && std::atoi(argv[3]) != 0;
  const unsigned seed = argc > 4 ? std::atoi(argv[4]) : 1;
  Env env;
  env.continuous = continuous;
  env.rng.seed(seed);
  std::mt19937_64 arng(seed + 99);
  std::vector<double> lens, rets;
  int ge200 = 0, timeouts = 0;
  for (int ep = 0; ep < episodes; ++ep) {
    auto s = env.reset();
    double ret = 0;
    int t = 0;
    for (;;) {
      std::vector<double> a;
      if (random) {
        if (continuous)
          a = {std::uniform_real_distribution<double>(-1, 1)(arng),
               std::uniform_real_distribution<double>(-1, 1)(arng)};
        else
          a = {(double)std::uniform_int_distribution<int>(0, 3)(arng)};
      } else {
        a = heuristic(continuous, s);
      }
      double r;
      bool term;
      s = env.step(a, r, term);
      ret += r;
      ++t;
      if (term) break;
      if (t >= 1000) {
        ++timeouts;
        break;
      }
    }
    lens.push_back(t);
    rets.push_back(ret);
    if (ret >= 200) ++ge200;
  }
  auto mean = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    return m / v.size();
  };
  auto sd = [&](const std::vector<double>& v) {
    const double m = mean(v);
    double q = 0;
    for (double x : v) q += (x - m) * (x - m);
    return std::sqrt(q / v.size());
  };
  std::vector<double> sl = lens;
  std::sort(sl.begin(), sl.end());
  int over398 = 0;
  for (double l : lens) over398 += l > 398;
  std::printf(
      "cont=%d random=%d eps=%d  ret %.1f (sd %.1f)  len %.1f (sd %.1f) median %.0f max %.0f  "
      ">=200 %.1f%%  timeouts %d  >398 %d\n",
      continuous, random, episodes, mean(rets), sd(rets), mean(lens), sd(lens), sl[sl.size() / 2],
      sl.back(), 100.0 * ge200 / episodes, timeouts, over398);
}
