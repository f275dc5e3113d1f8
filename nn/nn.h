// Umbrella header for keel::nn. Prefer including the specific headers in library code.
#pragma once

#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/distributions.h"
#include "nn/graph.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/mlp.h"
#include "nn/module.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/recurrent.h"
#include "nn/schedule.h"
#include "nn/serialize.h"
#include "nn/stability.h"
#include "nn/tape.h"
