// Fixture builders shared by the lander and the walker: the main body as a polygon given in
// pixels (scaled by 1/scale), and a leg as a box — with the density, friction, restitution and
// collision filter Gymnasium gives them. Internal to envs/box2d (includes Box2D).
#pragma once

#include <box2d/box2d.h>

namespace keel::envs {

// A rigid polygon body fixture: density 5, friction 0.1, restitution 0, colliding with the
// ground (mask 0x0001) only.
template <int N>
void add_body_polygon(b2Body* body, const double (&poly)[N][2], double scale, uint16 category) {
  b2Vec2 v[N];
  for (int k = 0; k < N; ++k)
    v[k].Set(static_cast<float>(poly[k][0] / scale), static_cast<float>(poly[k][1] / scale));
  b2PolygonShape shape;
  shape.Set(v, N);
  b2FixtureDef fd;
  fd.shape = &shape;
  fd.density = 5.0f;
  fd.friction = 0.1f;
  fd.filter.categoryBits = category;
  fd.filter.maskBits = 0x0001;
  fd.restitution = 0.0f;
  body->CreateFixture(&fd);
}

// A leg box: density 1, Box2D's default friction, restitution 0, category 0x0020, colliding with
// the ground only.
inline void add_leg_box(b2Body* body, float half_w, float half_h) {
  b2PolygonShape box;
  box.SetAsBox(half_w, half_h);
  b2FixtureDef fd;
  fd.shape = &box;
  fd.density = 1.0f;
  fd.restitution = 0.0f;
  fd.filter.categoryBits = 0x0020;
  fd.filter.maskBits = 0x0001;
  body->CreateFixture(&fd);
}

}  // namespace keel::envs
