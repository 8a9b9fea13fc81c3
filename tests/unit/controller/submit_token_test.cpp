// Submit tokens (SubmitJobRequest.submit_token): a submit repeated with the same token (a retry
// after a lost reply) is answered with the job the first one made and makes nothing, also after
// a restart; another user's token, or an oversized one, is refused.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/config.hpp"
#include "controller/controller.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

class SubmitTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/locus-token-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    config_.state_dir = dir_;
  }
  void TearDown() override {
    controller_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool open() {
    controller_.reset();
    auto c = Controller::create(config_);
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c.ok()) return false;
    controller_ = std::move(*c);
    return true;
  }
  static proto::SubmitJobRequest request(const std::string& token, uint32_t uid = 1000,
                                         const std::string& array = "") {
    proto::SubmitJobRequest req;
    req.mutable_spec()->set_script("#!/bin/sh\ntrue\n");
    req.mutable_spec()->set_work_dir("/tmp");
    req.mutable_spec()->set_array_spec(array);
    req.set_user(uid == 1000 ? "alice" : "bob");
    req.set_uid(uid);
    req.set_submit_token(token);
    return req;
  }
  size_t jobCount() {
    proto::ListJobsRequest all;
    all.add_states("ALL");
    return static_cast<size_t>(controller_->listJobs(all).jobs_size());
  }
  std::string dir_;
  Config config_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(SubmitTokens, ARetryGetsTheFirstJobAndMakesNothing) {
  ASSERT_TRUE(open());
  auto first = controller_->submit(request("3f2a"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = controller_->submit(request("3f2a"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->job_id(), first->job_id());
  EXPECT_EQ(again->tasks(), 1u);
  EXPECT_EQ(jobCount(), 1u);
  // Another token, or none: new jobs.
  auto other = controller_->submit(request("77c1"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->job_id(), first->job_id());
  auto none1 = controller_->submit(request(""));
  auto none2 = controller_->submit(request(""));
  ASSERT_TRUE(none1.ok() && none2.ok());
  EXPECT_NE(none1->job_id(), none2->job_id());
  EXPECT_EQ(jobCount(), 4u);
}

TEST_F(SubmitTokens, AnArrayRetryGetsTheArrayAndItsTaskCount) {
  ASSERT_TRUE(open());
  auto first = controller_->submit(request("a1", 1000, "0-4"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->tasks(), 5u);
  auto again = controller_->submit(request("a1", 1000, "0-4"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->job_id(), first->job_id());
  EXPECT_EQ(again->tasks(), 5u);
  EXPECT_EQ(jobCount(), 5u);
}

TEST_F(SubmitTokens, TheTokenOutlivesARestart) {
  ASSERT_TRUE(open());
  auto first = controller_->submit(request("feed"));
  ASSERT_TRUE(first.ok());
  // The reply was lost with the controller; the client retries against the restarted one.
  ASSERT_TRUE(open());
  auto again = controller_->submit(request("feed"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->job_id(), first->job_id());
  EXPECT_EQ(jobCount(), 1u);
}

TEST_F(SubmitTokens, AnotherUsersTokenOrAnOversizedOneIsRefused) {
  ASSERT_TRUE(open());
  ASSERT_TRUE(controller_->submit(request("beef")).ok());
  auto forged = controller_->submit(request("beef", 1001));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(forged.error().message.find("another user"), std::string::npos) << forged.error().message;
  auto huge = controller_->submit(request(std::string(129, 'x')));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(huge.error().message.find("submit token"), std::string::npos) << huge.error().message;
  EXPECT_EQ(jobCount(), 1u);  // nothing stored for either
}

}  // namespace
}  // namespace locus::controller
