#define BOOST_TEST_MODULE haul_integration
#include <boost/test/unit_test.hpp>
