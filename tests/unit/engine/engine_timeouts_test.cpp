#include "engine_driver.h"
