// The one translation unit that defines the test module; every other *.test.cpp only adds
// test cases to it.
#define BOOST_TEST_MODULE haul_unit
#include <boost/test/unit_test.hpp>
