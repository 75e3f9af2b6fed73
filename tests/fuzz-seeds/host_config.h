#if defined(__GNUC__)
#if __GNUC__ > 13
#error -- unsupported GNU version!
#endif
#if defined(__HORIZON__)
#if (__clang_major__ >= 18) || (__clang_major__ < 3)
#endif
#endif
#if (__clang_major__ >= 18) || (__clang_major__ < 3) || ((__clang_major__ == 3) &&  (__clang_minor__ < 3))
#endif
#endif
#if _MSC_VER < 1910 || _MSC_VER >= 1950
#endif
