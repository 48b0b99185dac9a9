/* Claim C8's legacy extension: built against Debian's stock python3.11 headers, where Py_INCREF
 * and Py_DECREF compile to op->ob_refcnt++ and --op->ob_refcnt on the object's first field. Loaded
 * into an rca-patched interpreter, those writes land on the count's handle instead (c8.sh). */
#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "build against stock CPython 3.11 headers"
#endif

static PyObject *held[64];
static int nheld;

/* hold(obj): a legacy Py_INCREF, the reference kept in C. */
static PyObject *legacy_hold(PyObject *self, PyObject *obj) {
  if (nheld == 64) {
    PyErr_SetString(PyExc_RuntimeError, "c8legacy: 64 objects held at most");
    return NULL;
  }
  Py_INCREF(obj);
  held[nheld++] = obj;
  Py_RETURN_NONE;
}

/* release(): a legacy Py_DECREF of every held object. */
static PyObject *legacy_release(PyObject *self, PyObject *unused) {
  while (nheld > 0) {
    Py_DECREF(held[--nheld]);
  }
  Py_RETURN_NONE;
}

/* peek(i): the i-th held object, a new reference (a legacy Py_INCREF). */
static PyObject *legacy_peek(PyObject *self, PyObject *arg) {
  long i = PyLong_AsLong(arg);
  if (i < 0 || i >= nheld) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "c8legacy: no such held object");
    return NULL;
  }
  Py_INCREF(held[i]);
  return held[i];
}

/* touch(obj, n): n legacy increments, then n legacy decrements (balanced). */
static PyObject *legacy_touch(PyObject *self, PyObject *args) {
  PyObject *obj;
  int n;
  if (!PyArg_ParseTuple(args, "Oi", &obj, &n)) {
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    Py_INCREF(obj);
  }
  for (int i = 0; i < n; i++) {
    Py_DECREF(obj);
  }
  Py_RETURN_NONE;
}

/* word(obj): the raw first field as stock 3.11 sees it (ob_refcnt). */
static PyObject *legacy_word(PyObject *self, PyObject *obj) {
  return PyLong_FromSsize_t(obj->ob_refcnt);
}

static PyMethodDef methods[] = {
    {"hold", legacy_hold, METH_O, NULL}, {"release", legacy_release, METH_NOARGS, NULL},
    {"peek", legacy_peek, METH_O, NULL}, {"touch", legacy_touch, METH_VARARGS, NULL},
    {"word", legacy_word, METH_O, NULL}, {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "c8legacy", NULL, -1, methods};

PyMODINIT_FUNC PyInit_c8legacy(void) { return PyModule_Create(&module); }
