// Package ner finds names of people, places and organizations in tokenized
// text: a gazetteer of given names, surnames, places and address words with
// log-frequencies and an ordinary-word flag, and an averaged-perceptron
// tagger over candidate tokens whose weights are trained at development time
// (see the build command beside it) and embedded in the binary.
//
// It owns the feature set, the tagger and the compact formats of both
// tables. It must never log or return the text it reads other than as the
// tags it was asked for, and it must never load data at run time from
// anywhere but the bytes it is given.
package ner
