// A value or a one-line reason, for the option parsers (C++20 has no std::expected).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dpcopy::cli {

template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
    static Result failure(std::string reason) { return Result(Tag{}, std::move(reason)); }

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }
    // The reason, without the program or option name ("expected PORT-IP:PORT").
    const std::string& error() const { return std::get<1>(v_); }

private:
    struct Tag {};
    Result(Tag, std::string reason) : v_(std::in_place_index<1>, std::move(reason)) {}
    std::variant<T, std::string> v_;
};

template <class T>
Result<T> fail(std::string reason) { return Result<T>::failure(std::move(reason)); }

}  // namespace dpcopy::cli
